// createMesh's retryBudget and maxMirrorsInFlight options: defaults, partial settings, off, bad values named.
import { expect } from 'chai';
import { isWeftErrorCode } from './errors.js';
import { resolveOptions, type MeshOptions } from './options.js';

const CA = { WEFT_CA_FILE: '/data/ca.pem' };
const resolve = (o: Partial<MeshOptions>) => resolveOptions({ service: 'web', ...o }, CA);

function refusal(o: Partial<MeshOptions>): string {
  try {
    resolve(o);
  } catch (e) {
    expect(isWeftErrorCode(e, 'INVALID_ARGUMENT')).to.equal(true);
    return (e as Error).message;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('resolveOptions: retry budget and mirroring bounds', () => {
  it("defaults to Linkerd's budget (20 % over 10 s plus 10 per second) and 100 mirrored requests in flight", () => {
    expect(resolve({})).to.deep.include({ retryBudget: { ratio: 0.2, minPerSecond: 10, windowMs: 10_000 }, maxMirrorsInFlight: 100 });
  });

  it('keeps the defaults of the fields left out; false turns the budget off; 0 never mirrors', () => {
    expect(resolve({ retryBudget: { ratio: 0.5 } }).retryBudget).to.deep.equal({ ratio: 0.5, minPerSecond: 10, windowMs: 10_000 });
    expect(resolve({ retryBudget: { minPerSecond: 0, windowMs: 1000 } }).retryBudget).to.deep.equal({ ratio: 0.2, minPerSecond: 0, windowMs: 1000 });
    expect(resolve({ retryBudget: false }).retryBudget).to.equal(undefined);
    expect(resolve({ maxMirrorsInFlight: 0 }).maxMirrorsInFlight).to.equal(0);
  });

  it('names a bad setting and says what it should be', () => {
    expect(refusal({ retryBudget: { ratio: -1 } })).to.match(/^options\.retryBudget\.ratio must be a fraction of the requests, 0 or more/);
    expect(refusal({ retryBudget: { windowMs: 5 } })).to.match(/^options\.retryBudget\.windowMs must be a window in milliseconds, at least 10, got 5/);
    expect(refusal({ retryBudget: { ttl: 10 } as never })).to.match(/^options\.retryBudget\.ttl is not a setting; options\.retryBudget must be false/);
    expect(refusal({ retryBudget: true as never })).to.match(/^options\.retryBudget must be false \(no budget\) or \{ ratio, minPerSecond, windowMs \}/);
    expect(refusal({ maxMirrorsInFlight: 1.5 })).to.match(/^options\.maxMirrorsInFlight must be a whole number, 0 or more/);
  });
});
