import { expect } from 'chai';
import { isCaError } from './errors.js';
import { parsePrincipal, parseSpiffeId, spiffeId } from './spiffe.js';

describe('SPIFFE IDs', () => {
  it('formats an identity in URI and Istio principal form, with cluster.local by default', () => {
    const id = spiffeId({ namespace: 'default', serviceAccount: 'bookinfo-productpage' });
    expect(id.uri).to.equal('spiffe://cluster.local/ns/default/sa/bookinfo-productpage');
    expect(id.principal).to.equal('cluster.local/ns/default/sa/bookinfo-productpage');
    expect(Object.isFrozen(id)).to.equal(true);
  });

  it('parses both forms back to the same parts', () => {
    const a = parseSpiffeId('spiffe://example.org/ns/shop/sa/cart.v2');
    expect(a).to.include({ trustDomain: 'example.org', namespace: 'shop', serviceAccount: 'cart.v2' });
    expect(parsePrincipal('example.org/ns/shop/sa/cart.v2')).to.deep.equal(a);
  });

  for (const bad of [
    'http://cluster.local/ns/a/sa/b',
    'spiffe://Cluster.local/ns/a/sa/b',
    'spiffe://cluster.local:8080/ns/a/sa/b',
    'spiffe://user@cluster.local/ns/a/sa/b',
    'spiffe://cluster.local/ns/a/sa/b/',
    'spiffe://cluster.local/ns/a/sa/b?x=1',
    'spiffe://cluster.local/ns/a/sa/b#f',
    'spiffe://cluster.local/ns//sa/b',
    'spiffe://cluster.local/ns/../sa/b',
    'spiffe://cluster.local/ns/A/sa/b',
    'spiffe://cluster.local/ns/a%2Fb/sa/c',
    'spiffe://cluster.local/sa/b/ns/a',
    'spiffe:///ns/a/sa/b',
    `spiffe://cluster.local/ns/a/sa/${'b'.repeat(3000)}`,
  ]) {
    it(`refuses ${JSON.stringify(bad.slice(0, 60))}`, () => {
      let err: unknown;
      try {
        parseSpiffeId(bad);
      } catch (e) {
        err = e;
      }
      expect(isCaError(err) && err.code).to.equal('INVALID_SPIFFE_ID');
    });
  }

  it('names the part that is wrong', () => {
    expect(() => spiffeId({ namespace: 'ok', serviceAccount: 'Bad_Name' })).to.throw(/service account "Bad_Name"/);
    expect(() => spiffeId({ namespace: '-x', serviceAccount: 'a' })).to.throw(/namespace "-x"/);
    expect(() => spiffeId({ namespace: 'a', serviceAccount: 'a', trustDomain: 'a/b' })).to.throw(/trust domain "a\/b"/);
  });
});
