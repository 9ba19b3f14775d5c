import { expect } from 'chai';
import type { MtlsMode, PeerAuthentication } from '@weft/api';
import { compilePeerAuthentication, peerAuthenticationFor } from './peer-authentication.js';

const scope = { namespace: 'shop', labels: { app: 'cart', version: 'v1' }, rootNamespace: 'istio-system' };

function pa(namespace: string, name: string, spec: PeerAuthentication['spec'], createdMs = 1) {
  return compilePeerAuthentication({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { namespace, name }, spec }, createdMs);
}
const mode = (m: MtlsMode) => ({ mtls: { mode: m } });
const cart = { selector: { matchLabels: { app: 'cart' } } };

describe('PeerAuthentication for a workload', () => {
  it('is PERMISSIVE with no policy, as Istio', () => {
    expect(peerAuthenticationFor([], scope).modeFor(8080)).to.equal('PERMISSIVE');
  });

  it('takes the narrowest policy: workload over namespace over mesh', () => {
    const mesh = pa('istio-system', 'default', mode('STRICT'));
    const ns = pa('shop', 'default', mode('DISABLE'));
    const wl = pa('shop', 'cart', { ...cart, ...mode('PERMISSIVE') });
    expect(peerAuthenticationFor([mesh], scope).modeFor(1)).to.equal('STRICT');
    expect(peerAuthenticationFor([mesh, ns], scope).modeFor(1)).to.equal('DISABLE');
    const all = peerAuthenticationFor([mesh, ns, wl], scope);
    expect(all.modeFor(1)).to.equal('PERMISSIVE');
    expect(all.sources).to.deep.equal(['shop/cart', 'shop/default', 'istio-system/default']);
  });

  it('UNSET inherits from the next wider level; a port-level mode overrides for that listening port only', () => {
    const mesh = pa('istio-system', 'default', mode('STRICT'));
    const wl = pa('shop', 'cart', { ...cart, ...mode('UNSET'), portLevelMtls: { '8080': { mode: 'DISABLE' }, '9090': { mode: 'UNSET' } } });
    const m = peerAuthenticationFor([mesh, wl], scope);
    expect([m.modeFor(8080), m.modeFor(9090), m.modeFor(1)]).to.deep.equal(['DISABLE', 'STRICT', 'STRICT']);
  });

  it('ignores policies of other namespaces, selectors that do not match, and root-namespace policies with a selector', () => {
    const other = pa('web', 'default', mode('STRICT'));
    const notMe = pa('shop', 'x', { selector: { matchLabels: { app: 'web' } }, ...mode('STRICT') });
    const rootSelected = pa('istio-system', 'y', { ...cart, ...mode('STRICT') });
    expect(peerAuthenticationFor([other, notMe, rootSelected], scope).modeFor(1)).to.equal('PERMISSIVE');
  });

  it('the oldest wins among policies of one level', () => {
    const newer = pa('shop', 'a', mode('DISABLE'), 20);
    const older = pa('shop', 'b', mode('STRICT'), 10);
    expect(peerAuthenticationFor([newer, older], scope).modeFor(1)).to.equal('STRICT');
  });
});
