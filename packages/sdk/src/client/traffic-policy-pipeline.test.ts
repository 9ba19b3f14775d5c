// The DestinationRule trafficPolicy stages in the real pipeline (route → pick → connection pool →
// outlier → transport) against http servers on 127.0.0.1 port 0: what each server receives is counted
// there. Overflow fails fast with UO and only the allowed requests arrive; an ejected endpoint receives
// nothing until its time is over; panic mode; consistent hash by header and by a cookie made when absent;
// a retry's pick avoids the endpoint tried; maxRequestsPerConnection shapes the connections.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InstanceMsg } from '@weft/api';
import type { Endpoint } from '../balancer/endpoint.js';
import { compileConfig } from '../config/config-compiler.js';
import { resourceMsg } from '../config/test-resources.js';
import { isWeftErrorCode, type WeftError } from '../errors.js';
import { ClusterDirectory } from './clusters.js';
import { connectionPoolStage } from './connection-pool-stage.js';
import { fetchEdge } from './fetch-edge.js';
import { RESPONSE_FLAGS_HEADER } from './fetch-response.js';
import { outlierStage } from './outlier-stage.js';
import { pickStage } from './pick-stage.js';
import { compose, type Handler, type OutboundRequest } from './pipeline.js';
import { requestEdge } from './request-edge.js';
import { routeStage } from './route-stage.js';
import { TargetParser } from './target.js';
import { Transport } from './transport.js';

const HOST = 'cart.shop.svc.cluster.local';

interface Backend {
  name: string;
  server: http.Server;
  port: number;
  hits: number;
  inFlight: number;
  maxInFlight: number;
  connections: number;
  status: number;
  /** When set, requests wait for it (the test releases them). */
  hold: Promise<void> | undefined;
}

async function backend(name: string, status = 200): Promise<Backend> {
  const b = { name, hits: 0, inFlight: 0, maxInFlight: 0, connections: 0, status, hold: undefined } as unknown as Backend;
  b.server = http.createServer(async (req, res) => {
    b.hits++;
    b.inFlight++;
    b.maxInFlight = Math.max(b.maxInFlight, b.inFlight);
    if (b.hold) await b.hold;
    b.inFlight--;
    res.statusCode = b.status;
    res.end(b.name);
  });
  b.server.on('connection', () => b.connections++);
  await new Promise<void>((r) => b.server.listen(0, '127.0.0.1', () => r()));
  b.port = (b.server.address() as AddressInfo).port;
  return b;
}

function instance(b: Backend): InstanceMsg {
  return { instanceId: b.name, workloadName: b.name, labels: { app: 'cart' }, serviceAccount: 'cart', endpoint: { address: '127.0.0.1', port: b.port, protocol: 'http', servicePort: 0 } };
}

describe('trafficPolicy stages against real servers', function () {
  this.timeout(20_000);
  let backends: Backend[];
  let transport: Transport;
  let clusters: ClusterDirectory;
  let handler: Handler;
  let request: ReturnType<typeof requestEdge>;
  let statusFetch: typeof fetch;
  const targets = new TargetParser('shop');

  async function start(n: number, trafficPolicy: unknown, statuses: number[] = []): Promise<void> {
    backends = [];
    for (let i = 0; i < n; i++) backends.push(await backend(`cart-${i}`, statuses[i] ?? 200));
    transport = new Transport();
    clusters = new ClusterDirectory();
    const config = compileConfig('1', [resourceMsg('DestinationRule', 'shop', 'cart', { host: 'cart', trafficPolicy })], 'shop');
    clusters.setConfig(config);
    clusters.setEndpoints(HOST, backends.map(instance));
    handler = compose([routeStage({ config: () => config }), pickStage({ clusters, awaitHost: async () => undefined }), connectionPoolStage(), outlierStage()], transport.handler);
    request = requestEdge(handler, targets, () => undefined);
    statusFetch = fetchEdge(handler, targets, () => undefined, 'status');
  }

  afterEach(async () => {
    await transport.close(500);
    for (const b of backends) {
      b.server.closeAllConnections();
      await new Promise((r) => b.server.close(r));
    }
  });

  const hitsBy = () => Object.fromEntries(backends.map((b) => [b.name, b.hits]));
  const text = async (url: string, headers: Record<string, string> = {}) => (await (await request(url, { headers })).body.text());

  it('overflows at once with UO beyond maxConnections 1 and http1MaxPendingRequests 1; only the allowed requests arrive', async () => {
    await start(1, { connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } } });
    const b = backends[0]!;
    let release!: () => void;
    b.hold = new Promise((r) => (release = r));
    const started = Date.now();
    const calls = Array.from({ length: 6 }, () => request('http://cart/').then(async (r) => [r.statusCode, await r.body.text()], (e: WeftError) => e));
    const settled = await Promise.all(calls.slice(2));
    expect(Date.now() - started).to.be.below(1000); // the four refusals did not wait
    for (let i = 0; i < 100 && b.hits === 0; i++) await new Promise((r) => setTimeout(r, 10));
    for (const e of settled) {
      expect(isWeftErrorCode(e, 'UPSTREAM_OVERFLOW'), String(e)).to.equal(true);
      expect(e).to.include({ status: 503, flag: 'UO' });
      expect((e as WeftError).message).to.match(/^upstream overflow for cart\.shop\.svc\.cluster\.local: 1 connections busy \(maxConnections 1\) and 1 requests waiting \(http1MaxPendingRequests 1\), set by DestinationRule shop\/cart: spec\.trafficPolicy\.connectionPool; the request was not sent$/);
    }
    expect([b.hits, b.inFlight]).to.deep.equal([1, 1]);
    release();
    b.hold = undefined;
    expect(await Promise.all(calls.slice(0, 2))).to.deep.equal([[200, 'cart-0'], [200, 'cart-0']]);
    expect([b.hits, b.maxInFlight]).to.deep.equal([2, 1]);
    await new Promise((r) => setImmediate(r)); // the bodies' 'close' events give the connection back
    const stats = clusters.stats().find((s) => s.host === HOST)!;
    expect(stats).to.include({ overflows: 4, active: 0, pending: 0 });
  });

  it("answers mesh.fetch in status mode with Envoy's overflow reply, and records UO on the call", async () => {
    await start(1, { connectionPool: { http: { http2MaxRequests: 1 } } });
    let release!: () => void;
    backends[0]!.hold = new Promise((r) => (release = r));
    const first = request('http://cart/');
    const res = await statusFetch('http://cart/');
    expect([res.status, await res.text(), res.headers.get(RESPONSE_FLAGS_HEADER)]).to.deep.equal([503, 'upstream connect error or disconnect/reset before headers. reset reason: overflow', 'UO']);
    const req: OutboundRequest = { method: 'GET', target: targets.parse('http://cart/'), headers: { host: 'cart' }, body: null, signal: undefined, route: undefined, endpoint: undefined, record: { flags: [], attempts: 0 } };
    await handler(req).catch(() => undefined);
    expect(req.record.flags).to.deep.equal(['UO']);
    release();
    backends[0]!.hold = undefined;
    await (await first).body.text();
  });

  it('ejects an endpoint after consecutive 5xx, sends it nothing while ejected, and takes it back after baseEjectionTime', async () => {
    await start(3, { loadBalancer: { simple: 'ROUND_ROBIN' }, outlierDetection: { consecutive5xxErrors: 2, interval: '50ms', baseEjectionTime: '600ms', maxEjectionPercent: 100 } }, [200, 200, 503]);
    const bad = backends[2]!;
    for (let i = 0; i < 9 && bad.hits < 2; i++) await text('http://cart/');
    expect(bad.hits).to.equal(2);
    const ejectedAt = Date.now();
    expect(clusters.stats()[0]).to.include({ ejected: 1, ejectionsTotal: 1 });
    // While ejected (600 ms): nothing reaches it.
    while (Date.now() - ejectedAt < 450) {
      expect(await text('http://cart/')).to.not.equal('cart-2');
    }
    expect(bad.hits).to.equal(2);
    await new Promise((r) => setTimeout(r, 300));
    // Back after its time: it gets its share again (and, answering 503, is ejected again, now for 1.2 s).
    for (let i = 0; i < 6; i++) await text('http://cart/');
    expect(bad.hits).to.be.within(3, 4);
    expect(clusters.stats()[0]!.ejectionsTotal).to.be.within(1, 2);
  });

  it('ejects an endpoint that refuses connections (UF counts as 503) and keeps it out across an endpoint push', async () => {
    await start(2, { loadBalancer: { simple: 'ROUND_ROBIN' }, outlierDetection: { consecutive5xxErrors: 1, baseEjectionTime: '1m', maxEjectionPercent: 100 } });
    const dead = backends[1]!;
    dead.server.closeAllConnections();
    await new Promise((r) => dead.server.close(r));
    const failures = [];
    for (let i = 0; i < 10; i++) failures.push(await request('http://cart/').then((r) => r.body.text(), (e: WeftError) => e.code));
    expect(failures.filter((f) => f === 'UPSTREAM_CONNECT_FAILURE')).to.have.length(1);
    clusters.setEndpoints(HOST, backends.map(instance));
    for (let i = 0; i < 10; i++) expect(await text('http://cart/')).to.equal('cart-0');
    // A server that closes is listened to again, for the afterEach.
    await new Promise<void>((r) => dead.server.listen(0, '127.0.0.1', () => r()));
  });

  it('balances over every endpoint, ejected ones included, in panic (below minHealthPercent)', async () => {
    await start(3, { loadBalancer: { simple: 'ROUND_ROBIN' }, outlierDetection: { consecutive5xxErrors: 1, baseEjectionTime: '1m', maxEjectionPercent: 100, minHealthPercent: 50 } }, [200, 503, 503]);
    for (let i = 0; i < 6; i++) await request('http://cart/').then((r) => r.body.text());
    const s = clusters.stats()[0]!;
    expect(s).to.include({ ejected: 2, panic: true });
    const before = hitsBy();
    for (let i = 0; i < 30; i++) await text('http://cart/');
    const after = hitsBy();
    for (const b of backends) expect(after[b.name]! - before[b.name]!, b.name).to.equal(10);
  });

  it('with minHealthPercent 0 (the default) answers no healthy upstream once every endpoint is ejected', async () => {
    await start(2, { outlierDetection: { consecutive5xxErrors: 1, baseEjectionTime: '1m', maxEjectionPercent: 100 } }, [503, 503]);
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await request('http://cart/').then((r) => String(r.statusCode), (e: WeftError) => e.code));
    expect(seen.slice(0, 2)).to.deep.equal(['503', '503']);
    expect(seen.slice(2)).to.deep.equal(Array(4).fill('NO_HEALTHY_UPSTREAM'));
  });

  it('sends each httpHeaderName value to one endpoint', async () => {
    await start(4, { loadBalancer: { consistentHash: { httpHeaderName: 'x-user' } } });
    const owners = new Map<string, Set<string>>();
    for (let round = 0; round < 4; round++) {
      for (let u = 0; u < 40; u++) {
        const name = await text('http://cart/', { 'x-user': `user-${u}` });
        (owners.get(`user-${u}`) ?? owners.set(`user-${u}`, new Set()).get(`user-${u}`)!).add(name);
      }
    }
    for (const [user, set] of owners) expect(set.size, user).to.equal(1);
    expect(new Set([...owners.values()].map((s) => [...s][0])).size).to.be.at.least(3);
  });

  it('makes a hash cookie when the request has none, sets it on the response, and keeps requests that carry it on one endpoint', async () => {
    await start(4, { loadBalancer: { consistentHash: { httpCookie: { name: 'sticky', path: '/', ttl: '60s' } } } });
    const res = await request('http://cart/');
    const first = await res.body.text();
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).to.match(/^sticky="[0-9a-f]{16}"; Max-Age=60; Path=\/; HttpOnly$/);
    const value = /"([0-9a-f]+)"/.exec(cookie)![1]!;
    for (let i = 0; i < 20; i++) {
      const again = await request('http://cart/', { headers: { cookie: `theme=dark; sticky=${value}` } });
      expect(again.headers['set-cookie']).to.equal(undefined);
      expect(await again.body.text()).to.equal(first);
    }
    // mesh.fetch callers see the Set-Cookie too.
    const fetched = await statusFetch('http://cart/');
    expect(fetched.headers.get('set-cookie')).to.match(/^sticky="[0-9a-f]{16}"/);
    await fetched.text();
  });

  it("picks an endpoint a retry's call has not tried yet, even where the balancer would not", async () => {
    await start(2, { loadBalancer: { simple: 'LEAST_REQUEST' } });
    const view = clusters.view(HOST);
    const eps = clusters.cluster(view, undefined, 0).endpoints;
    // LEAST_REQUEST over two endpoints always compares both: the less loaded one wins, unless tried.
    (eps[1] as Endpoint).outstanding = 10;
    for (let i = 0; i < 10; i++) {
      const req: OutboundRequest = { method: 'GET', target: targets.parse('http://cart/'), headers: { host: 'cart' }, body: null, signal: undefined, route: undefined, endpoint: undefined, previousEndpoints: new Set([eps[0]!]), record: { flags: [], attempts: 0 } };
      expect(await (await handler(req)).body.text()).to.equal(backends[1]!.name);
    }
    (eps[1] as Endpoint).outstanding = 0;
  });

  it('maxRequestsPerConnection N opens a connection per N requests; the default keeps connections alive', async () => {
    // undici itself sometimes opens a second connection for back-to-back requests: hence the ranges.
    for (const [n, min, max] of [[1, 6, 6], [3, 2, 3], [undefined, 1, 2]] as const) {
      await start(1, n === undefined ? { connectionPool: { tcp: { connectTimeout: '1s' } } } : { connectionPool: { http: { maxRequestsPerConnection: n } } });
      for (let i = 0; i < 6; i++) await text('http://cart/');
      expect(backends[0]!.connections, `maxRequestsPerConnection ${n}`).to.be.within(min, max);
      if (n === undefined) break;
      await transport.close(500);
      backends[0]!.server.closeAllConnections();
      await new Promise((r) => backends[0]!.server.close(r));
    }
  });
});
