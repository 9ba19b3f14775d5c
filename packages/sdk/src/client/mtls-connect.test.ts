import { expect } from 'chai';
import type { Endpoint } from '../balancer/endpoint.js';
import { AUTO_MTLS, EMPTY_CONFIG, type ClientTls, type CompiledConfig, type CompiledDestinationRule, type TlsOrigination } from '../config/compiled.js';
import type { TlsMaterial } from '../identity/tls-material.js';
import { clientTlsOf, expectedSpiffeId, speaksMtls } from './mtls-connect.js';
import type { OutboundRequest } from './pipeline.js';
import { TargetParser } from './target.js';

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

  it('reads DestinationRule tls: the subset over the rule, ISTIO_MUTUAL when absent; outside the mesh only a rule that originates TLS', () => {
    const disable: ClientTls = { mode: 'DISABLE', origination: undefined };
    const simple: ClientTls = { mode: 'SIMPLE', origination: { mode: 'SIMPLE', key: 'k' } as TlsOrigination };
    const rule: CompiledDestinationRule = {
      host: 'cart.shop.svc.cluster.local', source: 'shop/cart', balancer: 'ROUND_ROBIN', tls: disable,
      subsets: new Map([['secure', { name: 'secure', labels: [], balancer: 'ROUND_ROBIN', tls: AUTO_MTLS }], ['ext', { name: 'ext', labels: [], balancer: 'ROUND_ROBIN', tls: simple }]]),
    };
    const external: CompiledDestinationRule = { host: 'api.example.com', source: 'shop/api', balancer: 'ROUND_ROBIN', tls: simple, subsets: new Map() };
    const config: CompiledConfig = { ...EMPTY_CONFIG, destinationRules: new Map([[rule.host, rule], [external.host, external]]) };
    const parser = new TargetParser('shop');
    const req = (url: string, route?: { host: string; subset?: string }, isExternal = false): OutboundRequest => ({
      method: 'GET', target: parser.parse(url), headers: {}, body: null, signal: undefined, external: isExternal, endpoint: undefined, record: { flags: [], attempts: 0 },
      route: route ? { host: route.host, subset: route.subset, port: undefined, routeName: 'default' } : undefined,
    });
    expect(clientTlsOf(config, req('http://cart/', { host: rule.host }))).to.equal(disable);
    expect(clientTlsOf(config, req('http://cart/', { host: rule.host, subset: 'secure' }))).to.equal(AUTO_MTLS);
    expect(clientTlsOf(config, req('http://cart/', { host: rule.host, subset: 'ext' }))).to.equal(simple);
    expect(clientTlsOf(config, req('http://cart/', { host: rule.host, subset: 'gone' }))).to.equal(disable);
    expect(clientTlsOf(config, req('http://other/', { host: 'other.shop.svc.cluster.local' }))).to.equal(AUTO_MTLS);
    expect(clientTlsOf(config, req('http://other/'))).to.equal(AUTO_MTLS);
    // Leaving the mesh: the rule of the host as named (http: and https: alike); never for an address.
    expect(clientTlsOf(config, req('http://API.example.com:443/', undefined, true))).to.equal(simple);
    expect(clientTlsOf(config, req('https://api.example.com/', undefined, true))).to.equal(simple);
    expect(clientTlsOf(config, req('https://www.example.com/', undefined, true))).to.equal(AUTO_MTLS);
    expect(clientTlsOf(config, req('http://127.0.0.1:8443/', undefined, true))).to.equal(AUTO_MTLS);
  });
});
