import { expect } from 'chai';
import type { Endpoint } from '../balancer/endpoint.js';
import { EMPTY_CONFIG, type CompiledConfig, type CompiledDestinationRule } from '../config/compiled.js';
import type { TlsMaterial } from '../identity/tls-material.js';
import { expectedSpiffeId, speaksMtls, tlsModeOf } from './mtls-connect.js';

const endpoint = (over: Partial<Endpoint> = {}): Endpoint => ({
  origin: 'http://127.0.0.1:1', address: '127.0.0.1', port: 1, protocol: 'http', servicePort: 0, instanceId: 'i', workloadName: 'w',
  serviceAccount: 'cart-sa', namespace: 'shop', mtls: true, labels: {}, outstanding: 0, ...over,
});
const material = { generation: 1, trustDomain: 'cluster.local' } as TlsMaterial;

describe('auto-mTLS decisions', () => {
  it('expects the registered identity of the endpoint, in the caller trust domain', () => {
    expect(expectedSpiffeId(endpoint(), 'cluster.local')).to.equal('spiffe://cluster.local/ns/shop/sa/cart-sa');
  });

  it('uses mTLS only when the caller holds a certificate and the endpoint registered mtls with an identity', () => {
    expect(speaksMtls(endpoint(), material)).to.equal(true);
    expect(speaksMtls(endpoint(), null)).to.equal(false);
    expect(speaksMtls(endpoint({ mtls: false }), material)).to.equal(false);
    expect(speaksMtls(endpoint({ mtls: undefined }), material)).to.equal(false); // an older SDK's registration
    expect(speaksMtls(endpoint({ serviceAccount: '' }), material)).to.equal(false);
  });

  it('reads DestinationRule tls.mode: the subset over the rule, ISTIO_MUTUAL when absent', () => {
    const rule: CompiledDestinationRule = {
      host: 'cart.shop.svc.cluster.local', source: 'shop/cart', balancer: 'ROUND_ROBIN', tlsMode: 'DISABLE',
      subsets: new Map([['secure', { name: 'secure', labels: [], balancer: 'ROUND_ROBIN', tlsMode: 'ISTIO_MUTUAL' }]]),
    };
    const config: CompiledConfig = { ...EMPTY_CONFIG, destinationRules: new Map([[rule.host, rule]]) };
    const route = (host: string, subset?: string) => ({ host, subset, port: undefined, routeName: 'default' });
    expect(tlsModeOf(config, route(rule.host))).to.equal('DISABLE');
    expect(tlsModeOf(config, route(rule.host, 'secure'))).to.equal('ISTIO_MUTUAL');
    expect(tlsModeOf(config, route('other.shop.svc.cluster.local'))).to.equal('ISTIO_MUTUAL');
    expect(tlsModeOf(config, undefined)).to.equal('ISTIO_MUTUAL');
  });
});
