import { expect } from 'chai';
import { needsNormalization, normalizePath } from './normalize-path.js';

describe('normalizePath (Envoy normalize_path, as Istio sets it)', () => {
  it('leaves ordinary paths alone, without building a new string', () => {
    for (const p of ['/', '/reviews/0', '/a//b', '/a.b/c.d', '/a-b_c~d']) {
      expect(needsNormalization(p), p).to.equal(false);
      expect(normalizePath(p)).to.equal(p);
    }
  });

  it('removes dot segments, reads \\ as /, decodes unreserved characters and keeps others encoded', () => {
    const cases: [string, string][] = [
      ['/public/../admin', '/admin'],
      ['/a/./b', '/a/b'],
      ['/a/b/..', '/a/'],
      ['/..', '/'],
      ['/../../etc', '/etc'],
      ['/%61dmin', '/admin'],
      ['/%2e%2e/admin', '/admin'],
      ['/a%2fb', '/a%2Fb'],
      ['/a%20b', '/a%20b'],
      ['/a\\..\\admin', '/admin'],
      ['/bad%zz', '/bad%zz'],
      ['/end%', '/end%'],
      ['*', '/*'],
    ];
    for (const [raw, normalized] of cases) expect(normalizePath(raw), raw).to.equal(normalized);
  });
});
