import { expect } from 'chai';
import type { Target } from '../client/target.js';
import { TargetParser } from '../client/target.js';
import type { OutboundRequest } from '../client/pipeline.js';
import { selectRoute } from '../client/route-stage.js';
import { ConfigRejectedError } from './compile.js';
import { AUTO_MTLS } from './compiled.js';
import { compileConfig } from './config-compiler.js';
import { resourceMsg } from './test-resources.js';

const NS = 'bookinfo';
const REVIEWS = 'reviews.bookinfo.svc.cluster.local';
const parser = new TargetParser(NS);

function req(url: string, headers: Record<string, string> = {}, method = 'GET'): OutboundRequest {
  const target: Target = parser.parse(url);
  return { method, target, headers: { host: target.authority, ...headers }, body: null, signal: undefined, route: undefined, endpoint: undefined, record: { flags: [], attempts: 0 } };
}

function vs(spec: unknown, name = 'reviews', namespace = NS, createdMs?: number) {
  return resourceMsg('VirtualService', namespace, name, spec, createdMs);
}

const jasonToV2 = {
  hosts: ['reviews'],
  http: [
    { match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
    { route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
  ],
};

describe('compileConfig', () => {
  it('first matching route wins', () => {
    const config = compileConfig('7', [vs(jasonToV2)], NS);
    expect(config.version).to.equal('7');
    const table = config.routes.get(REVIEWS)!;
    expect(selectRoute(table, req('http://reviews/r', { 'end-user': 'jason' }))!.subset).to.equal('v2');
    expect(selectRoute(table, req('http://reviews/r', { 'end-user': 'bob' }))!.subset).to.equal('v1');
    expect(selectRoute(table, req('http://reviews/r'))!.subset).to.equal('v1');
    expect(config.routedHosts.get(REVIEWS)).to.deep.equal([REVIEWS]);
  });

  it('ANDs conditions within a match block and ORs across blocks', () => {
    const config = compileConfig('1', [vs({
      hosts: ['reviews'],
      http: [{
        match: [
          { uri: { prefix: '/api' }, method: { exact: 'POST' } },
          { headers: { 'x-canary': {} } },
        ],
        route: [{ destination: { host: 'reviews', subset: 'canary' } }],
      }],
    })], NS);
    const table = config.routes.get(REVIEWS)!;
    expect(selectRoute(table, req('http://reviews/api/x', {}, 'POST'))?.subset).to.equal('canary');
    expect(selectRoute(table, req('http://reviews/api/x', {}, 'GET'))).to.equal(undefined); // AND fails
    expect(selectRoute(table, req('http://reviews/other', {}, 'POST'))).to.equal(undefined);
    expect(selectRoute(table, req('http://reviews/other', { 'x-canary': '' }))?.subset).to.equal('canary'); // presence, OR
  });

  it('matches headers named like Object.prototype members as the plain headers they are', () => {
    const config = compileConfig('1', [vs({
      hosts: ['reviews'],
      http: [
        { match: [{ headers: { constructor: { exact: 'x' } } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
        { match: [{ headers: { tostring: {} } }], route: [{ destination: { host: 'reviews', subset: 'v3' } }] },
        { route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
      ],
    })], NS);
    const table = config.routes.get(REVIEWS)!;
    expect(selectRoute(table, req('http://reviews/r'))!.subset).to.equal('v1');
    expect(selectRoute(table, req('http://reviews/r', { constructor: 'x' }))!.subset).to.equal('v2');
    expect(selectRoute(table, req('http://reviews/r', { tostring: '' }))!.subset).to.equal('v3');
  });

  it('matches regexes against the whole value, uri without the query, and ports', () => {
    const config = compileConfig('1', [vs({
      hosts: ['reviews'],
      http: [
        { match: [{ uri: { regex: '/reviews/\\d+' } }], route: [{ destination: { host: 'reviews', subset: 'num' } }] },
        { match: [{ headers: { 'end-user': { regex: '(?i)jason' } } }], route: [{ destination: { host: 'reviews', subset: 'ci' } }] },
        { match: [{ port: 9080 }], route: [{ destination: { host: 'reviews', subset: 'p9080', port: { number: 9080 } } }] },
      ],
    })], NS);
    const table = config.routes.get(REVIEWS)!;
    expect(selectRoute(table, req('http://reviews/reviews/12?x=1'))?.subset).to.equal('num');
    expect(selectRoute(table, req('http://reviews/reviews/12a'))).to.equal(undefined);
    expect(selectRoute(table, req('http://reviews/x/reviews/12'))).to.equal(undefined);
    expect(selectRoute(table, req('http://reviews/x', { 'end-user': 'JASON' }))?.subset).to.equal('ci');
    expect(selectRoute(table, req('http://reviews/x', { 'end-user': 'jasonx' }))).to.equal(undefined);
    const byPort = selectRoute(table, req('http://reviews:9080/x'))!;
    expect(byPort.subset).to.equal('p9080');
    expect(byPort.port).to.equal(9080);
  });

  it('splits traffic by weight; an omitted weight is 0 among several', () => {
    const config = compileConfig('1', [vs({
      hosts: ['reviews'],
      http: [{ route: [
        { destination: { host: 'reviews', subset: 'v1' }, weight: 80 },
        { destination: { host: 'reviews', subset: 'v3' }, weight: 20 },
        { destination: { host: 'reviews', subset: 'never' } },
      ] }],
    })], NS);
    const table = config.routes.get(REVIEWS)!;
    const count: Record<string, number> = {};
    for (let i = 0; i < 10000; i++) {
      const s = selectRoute(table, req('http://reviews/'))!.subset!;
      count[s] = (count[s] ?? 0) + 1;
    }
    expect(count.never).to.equal(undefined);
    expect(count.v1! / 10000).to.be.within(0.77, 0.83);
    expect(count.v3! / 10000).to.be.within(0.17, 0.23);
  });

  it('a single destination takes all traffic whatever its weight', () => {
    const config = compileConfig('1', [vs({ hosts: ['reviews'], http: [{ route: [{ destination: { host: 'ratings' }, weight: 0 }] }] })], NS);
    const d = selectRoute(config.routes.get(REVIEWS)!, req('http://reviews/'))!;
    expect(d.host).to.equal('ratings.bookinfo.svc.cluster.local');
    expect(config.routedHosts.get(REVIEWS)).to.deep.equal(['ratings.bookinfo.svc.cluster.local']);
  });

  it('resolves hosts relative to the rule namespace; the oldest VirtualService of a host wins', () => {
    const config = compileConfig('1', [
      vs({ hosts: ['reviews.bookinfo'], http: [{ route: [{ destination: { host: 'reviews.bookinfo', subset: 'newer' } }] }] }, 'b-newer', 'other', 2000),
      vs({ hosts: ['reviews.bookinfo'], http: [{ route: [{ destination: { host: 'reviews.bookinfo', subset: 'older' } }] }] }, 'z-older', 'other', 1000),
      vs({ hosts: ['details'], http: [{ route: [{ destination: { host: 'details' } }] }] }, 'details', 'other', 1000),
    ], NS);
    expect(selectRoute(config.routes.get(REVIEWS)!, req('http://reviews/'))!.subset).to.equal('older');
    expect(config.routes.has('details.other.svc.cluster.local')).to.equal(true);
    expect(config.routes.has('details.bookinfo.svc.cluster.local')).to.equal(false);
  });

  it('compiles DestinationRules: subsets, per-subset balancer override, namespace preference', () => {
    const config = compileConfig('1', [
      resourceMsg('DestinationRule', 'other', 'reviews-elsewhere', { host: 'reviews.bookinfo', trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } }, 1),
      resourceMsg('DestinationRule', NS, 'reviews', {
        host: 'reviews',
        trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } },
        subsets: [
          { name: 'v1', labels: { version: 'v1' } },
          { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: { simple: 'LEAST_CONN' } } },
        ],
      }, 2),
    ], NS);
    const dr = config.destinationRules.get(REVIEWS)!;
    expect(dr.source).to.equal('bookinfo/reviews');
    expect(dr.balancer).to.equal('ROUND_ROBIN');
    expect(dr.subsets.get('v1')).to.deep.include({ name: 'v1', labels: [['version', 'v1']], balancer: 'ROUND_ROBIN', tls: AUTO_MTLS });
    expect(dr.subsets.get('v2')!.balancer).to.equal('LEAST_REQUEST');
  });

  it("compiles tls: SIMPLE / MUTUAL into an origination with Istio's defaults, a subset's tls replacing the rule's whole, and a pool key per settings", () => {
    const mutual = { mode: 'MUTUAL', clientCertificate: '/c.pem', privateKey: '/k.pem', caCertificates: '/ca.pem', subjectAltNames: ['api.example.com'], sni: 'API.example.com' };
    const config = compileConfig('1', [
      resourceMsg('DestinationRule', NS, 'api', {
        host: 'api.example.com',
        trafficPolicy: { tls: mutual },
        subsets: [
          { name: 'same', labels: { v: '1' } },
          { name: 'nomode', labels: { v: '2' }, trafficPolicy: { tls: {} } },
          { name: 'simple', labels: { v: '3' }, trafficPolicy: { tls: { mode: 'SIMPLE', insecureSkipVerify: true } } },
          { name: 'plain', labels: { v: '4' }, trafficPolicy: { tls: { mode: 'DISABLE' } } },
        ],
      }),
      resourceMsg('DestinationRule', NS, 'reviews', { host: 'reviews', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }),
    ], NS);
    const dr = config.destinationRules.get('api.example.com')!;
    expect(dr.tls.mode).to.equal('MUTUAL');
    const o = dr.tls.origination!;
    expect(o).to.include({
      mode: 'MUTUAL', source: `DestinationRule ${NS}/api: spec.trafficPolicy.tls`, clientCertificate: '/c.pem', privateKey: '/k.pem', caCertificates: '/ca.pem',
      caCrl: undefined, sni: 'api.example.com', insecureSkipVerify: false,
    });
    expect(o.subjectAltNames).to.deep.equal(['api.example.com']);
    expect(dr.subsets.get('same')!.tls).to.equal(dr.tls);
    expect(dr.subsets.get('nomode')!.tls).to.equal(dr.tls);
    const simple = dr.subsets.get('simple')!.tls.origination!;
    // Nothing of the rule's tls is inherited by a subset that sets its own (Istio merges tls as a whole).
    expect(simple).to.include({ mode: 'SIMPLE', source: `DestinationRule ${NS}/api: spec.subsets[2].trafficPolicy.tls`, clientCertificate: undefined, caCertificates: undefined, sni: undefined, insecureSkipVerify: true });
    expect(simple.subjectAltNames).to.deep.equal([]);
    expect(simple.key).to.not.equal(o.key);
    expect(dr.subsets.get('plain')!.tls).to.deep.equal({ mode: 'DISABLE', origination: undefined });
    expect(config.destinationRules.get(REVIEWS)!.tls).to.equal(AUTO_MTLS);
    // The same settings compiled again give the same key (pools survive an unrelated config change); others do not.
    const again = compileConfig('2', [resourceMsg('DestinationRule', NS, 'api', { host: 'api.example.com', trafficPolicy: { tls: mutual } })], NS);
    expect(again.destinationRules.get('api.example.com')!.tls.origination!.key).to.equal(o.key);
    const other = compileConfig('3', [resourceMsg('DestinationRule', NS, 'api', { host: 'api.example.com', trafficPolicy: { tls: { ...mutual, caCertificates: '/other-ca.pem' } } })], NS);
    expect(other.destinationRules.get('api.example.com')!.tls.origination!.key).to.not.equal(o.key);
  });

  it('never reads a file when compiling: a missing one is not a reason to reject the config', () => {
    const config = compileConfig('1', [
      resourceMsg('DestinationRule', NS, 'api', { host: 'api.example.com', trafficPolicy: { tls: { mode: 'SIMPLE', caCertificates: '/nonexistent/weft-test/ca.pem' } } }),
    ], NS);
    expect(config.destinationRules.get('api.example.com')!.tls.origination!.caCertificates).to.equal('/nonexistent/weft-test/ca.pem');
  });

  it('rejects the whole update naming kind, namespace/name and the field path', () => {
    const bad = vs({ hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' } }], fault: { abort: { http2Error: 'REFUSED_STREAM' } } }] }, 'faulty');
    expect(() => compileConfig('9', [vs(jasonToV2), bad], NS))
      .to.throw(ConfigRejectedError, /^VirtualService bookinfo\/faulty: spec\.http\[0\]\.fault\.abort\.http2Error: this Istio field is not supported/);
    const unknownKind = { ...vs({}), kind: 'Gateway' };
    expect(() => compileConfig('9', [unknownKind], NS)).to.throw(ConfigRejectedError, /Gateway bookinfo\/reviews: kind: unsupported kind/);
    const notJson = { ...vs({}), specJson: '{' };
    expect(() => compileConfig('9', [notJson], NS)).to.throw(ConfigRejectedError, /spec: not valid JSON/);
  });
});
