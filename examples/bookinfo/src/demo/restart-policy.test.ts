import { expect } from 'chai';
import { RestartPolicy } from './restart-policy.js';

describe('demo restart policy', () => {
  const options = { maxRestarts: 3, firstDelayMs: 1_000, maxDelayMs: 3_000, stableAfterMs: 30_000 };

  it('doubles the delay for each restart in a row, up to the maximum, then gives up', () => {
    const policy = new RestartPolicy(options);
    expect(policy.next(100)).to.deep.equal({ delayMs: 1_000, attempt: 1, maxRestarts: 3 });
    expect(policy.next(100)).to.deep.equal({ delayMs: 2_000, attempt: 2, maxRestarts: 3 });
    expect(policy.next(100)).to.deep.equal({ delayMs: 3_000, attempt: 3, maxRestarts: 3 });
    expect(policy.next(100)).to.equal(undefined);
    expect(policy.next(100)).to.equal(undefined);
  });

  it('starts a new count when the process ran long enough before it died', () => {
    const policy = new RestartPolicy(options);
    policy.next(100);
    policy.next(100);
    expect(policy.next(30_000)).to.deep.equal({ delayMs: 1_000, attempt: 1, maxRestarts: 3 });
  });

  it('rejects options that make no sense, naming them', () => {
    expect(() => new RestartPolicy({ ...options, maxRestarts: -1 })).to.throw(/maxRestarts must be an integer >= 0, got -1/);
    expect(() => new RestartPolicy({ ...options, maxDelayMs: 10 })).to.throw(/maxDelayMs \(10\) must be >= firstDelayMs \(1000\)/);
  });
});
