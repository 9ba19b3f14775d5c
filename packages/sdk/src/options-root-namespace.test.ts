import { expect } from 'chai';
import { isWeftErrorCode } from './errors.js';
import { resolveOptions } from './options.js';

/** weftd's roots by env: every mesh needs a way to trust weftd (options.test.ts). */
const CA = { WEFT_CA_FILE: '/data/ca.pem' };

describe('resolveOptions: rootNamespace', () => {
  it("defaults to Istio's istio-system and refuses a value that is not a namespace name", () => {
    expect(resolveOptions({ service: 'ok' }, CA).rootNamespace).to.equal('istio-system');
    expect(resolveOptions({ service: 'ok', rootNamespace: 'mesh-root' }, CA).rootNamespace).to.equal('mesh-root');
    for (const bad of ['', 'Istio-System', 'a.b', 7]) {
      expect(() => resolveOptions({ service: 'ok', rootNamespace: bad as string }, CA))
        .to.throw()
        .that.satisfies((e: unknown) => isWeftErrorCode(e, 'INVALID_ARGUMENT') && /options\.rootNamespace/.test((e as Error).message));
    }
  });
});
