// The real stages (route → pick → transport) against fake endpoints: plain http servers on port 0.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InstanceMsg } from '@weft/api';
import { compileConfig } from '../config/config-compiler.js';
import type { CompiledConfig } from '../config/compiled.js';
import { EMPTY_CONFIG } from '../config/compiled.js';
import { resourceMsg } from '../config/test-resources.js';
import { isWeftErrorCode } from '../errors.js';
import { ClusterDirectory } from './clusters.js';
import { egressStage, type OutboundTrafficPolicyMode } from './egress-stage.js';
import { fetchEdge } from './fetch-edge.js';
import { pickStage } from './pick-stage.js';
import { compose } from './pipeline.js';
import { requestEdge } from './request-edge.js';
import { routeStage } from './route-stage.js';
import { TargetParser } from './target.js';
import { Transport } from './transport.js';

const HOST = 'ratings.bookinfo.svc.cluster.local';

interface Fake { server: http.Server; port: number; hits: number; release?: () => void }

async function fakeEndpoint(name: string, hold = false): Promise<Fake> {
  const fake: Fake = { server: http.createServer(), port: 0, hits: 0 };
  fake.server.on('request', (req, res) => {
    fake.hits++;
    const answer = () => {
      res.setHeader('x-served-by', name);
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end(JSON.stringify({ name, host: req.headers.host, path: req.url, method: req.method, user: req.headers['end-user'] ?? null }));
    };
    if (hold) fake.release = answer;
    else answer();
  });
  await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', () => r()));
  fake.port = (fake.server.address() as AddressInfo).port;
  return fake;
}

function instance(id: string, port: number, version: string): InstanceMsg {
  return { instanceId: id, workloadName: `ratings-${version}`, labels: { app: 'ratings', version }, serviceAccount: 'sa', endpoint: { address: '127.0.0.1', port, protocol: 'http', servicePort: 0 } };
}

describe('client pipeline over real sockets', () => {
  let fakes: Fake[] = [];
  let transport: Transport;
  let clusters: ClusterDirectory;
  let config: CompiledConfig;
  let awaited: string[];

  function edges(mode: OutboundTrafficPolicyMode = 'ALLOW_ANY', weftdAnswers = true) {
    const awaitHost = (h: string) => {
      awaited.push(h);
      return weftdAnswers ? Promise.resolve() : new Promise<void>(() => undefined);
    };
    const handler = compose(
      [egressStage({ mode, config: () => config, clusters, awaitHost }), routeStage({ config: () => config }), pickStage({ clusters, awaitHost })],
      transport.handler,
    );
    const targets = new TargetParser('bookinfo');
    return { request: requestEdge(handler, targets, () => undefined), fetch: fetchEdge(handler, targets, () => undefined) };
  }

  beforeEach(() => {
    transport = new Transport();
    clusters = new ClusterDirectory();
    config = EMPTY_CONFIG;
    awaited = [];
  });

  afterEach(async () => {
    await transport.close(1000);
    for (const f of fakes) {
      f.server.closeAllConnections();
      await new Promise((r) => f.server.close(r));
    }
    fakes = [];
  });

  it('routes by VirtualService to a subset, sends the caller authority as Host, and reuses connections', async () => {
    fakes = [await fakeEndpoint('v1'), await fakeEndpoint('v2')];
    clusters.setEndpoints(HOST, [instance('a', fakes[0]!.port, 'v1'), instance('b', fakes[1]!.port, 'v2')]);
    config = compileConfig('1', [
      resourceMsg('DestinationRule', 'bookinfo', 'ratings', { host: 'ratings', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] }),
      resourceMsg('VirtualService', 'bookinfo', 'ratings', { hosts: ['ratings'], http: [
        { match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { host: 'ratings', subset: 'v2' } }] },
        { route: [{ destination: { host: 'ratings', subset: 'v1' } }] },
      ] }),
    ], 'bookinfo');
    clusters.setConfig(config);
    const { request } = edges();
    const connections = new Set<unknown>();
    fakes[0]!.server.on('connection', (s) => connections.add(s));
    for (let i = 0; i < 20; i++) {
      const r = await request('http://Ratings:9080/ratings/0?x=1');
      expect(r.statusCode).to.equal(200);
      expect(await r.body.json()).to.deep.equal({ name: 'v1', host: 'Ratings:9080', path: '/ratings/0?x=1', method: 'GET', user: null });
    }
    expect(connections.size, "keep-alive connections reused").to.be.at.most(2);
    const r = await request('http://ratings/ratings/0', { headers: { 'End-User': 'jason' } });
    expect(((await r.body.json()) as { name: string }).name).to.equal('v2');
  });

  it("mesh.fetch returns the platform's Response with status, multi-value headers, body and url", async () => {
    fakes = [await fakeEndpoint('only')];
    clusters.setEndpoints(HOST, [instance('a', fakes[0]!.port, 'v1')]);
    const { fetch } = edges();
    const res = await fetch('http://ratings/x', { method: 'POST', body: 'hi', headers: { 'end-user': 'ann' } });
    expect(res).to.be.instanceOf(globalThis.Response);
    expect(res.url).to.equal('http://ratings/x');
    expect(res.redirected).to.equal(false);
    expect(res.status).to.equal(200);
    expect(res.headers.get('x-served-by')).to.equal('only');
    expect(res.headers.getSetCookie()).to.deep.equal(['a=1', 'b=2']);
    expect(await res.json()).to.deep.include({ name: 'only', method: 'POST', user: 'ann' });
  });

  it('counts outstanding requests until the response body closes', async () => {
    fakes = [await fakeEndpoint('held', true)];
    clusters.setEndpoints(HOST, [instance('a', fakes[0]!.port, 'v1')]);
    const ep = clusters.cluster(clusters.view(HOST), undefined, 0).endpoints[0]!;
    const { request } = edges();
    const pending = request('http://ratings/');
    for (let i = 0; i < 100 && !fakes[0]!.release; i++) await new Promise((r) => setTimeout(r, 10));
    expect(ep.outstanding).to.equal(1);
    fakes[0]!.release!();
    const res = await pending;
    await res.body.text();
    for (let i = 0; i < 50 && ep.outstanding !== 0; i++) await new Promise((r) => setImmediate(r));
    expect(ep.outstanding).to.equal(0);
  });

  it('fails fast: no endpoints → NO_HEALTHY_UPSTREAM, nothing matches → NO_ROUTE, refused → UPSTREAM_CONNECT_FAILURE', async () => {
    clusters.setEndpoints(HOST, []);
    const { request } = edges();
    const e1 = await request('http://ratings/').catch((e: unknown) => e);
    expect(isWeftErrorCode(e1, 'NO_HEALTHY_UPSTREAM')).to.equal(true);
    expect((e1 as Error).message).to.equal(`no healthy upstream for ${HOST}`);

    config = compileConfig('1', [resourceMsg('VirtualService', 'bookinfo', 'r', { hosts: ['ratings'], http: [{ match: [{ uri: { prefix: '/only' } }], route: [{ destination: { host: 'ratings' } }] }] })], 'bookinfo');
    const e2 = await request('http://ratings/else').catch((e: unknown) => e);
    expect(isWeftErrorCode(e2, 'NO_ROUTE')).to.equal(true);
    expect((e2 as { status: number }).status).to.equal(404);

    const closed = await fakeEndpoint('closed');
    const port = closed.port;
    await new Promise((r) => closed.server.close(r));
    clusters.setEndpoints(HOST, [instance('gone', port, 'v1')]);
    const e3 = await request('http://ratings/only').catch((e: unknown) => e);
    expect(isWeftErrorCode(e3, 'UPSTREAM_CONNECT_FAILURE')).to.equal(true);
    expect(clusters.cluster(clusters.view(HOST), undefined, 0).endpoints[0]!.outstanding).to.equal(0);
  });

  it('waits for discovery of an unknown host and passes IP literals straight through', async () => {
    fakes = [await fakeEndpoint('direct')];
    const { request } = edges();
    const r = await request(`http://127.0.0.1:${fakes[0]!.port}/p`);
    expect(((await r.body.json()) as { name: string }).name).to.equal('direct');
    const e = await request('http://details/').catch((err: unknown) => err);
    expect(awaited).to.deep.equal(['details.bookinfo.svc.cluster.local']);
    expect(isWeftErrorCode(e, 'NO_HEALTHY_UPSTREAM')).to.equal(true);
  });

  it('keeps a host whose endpoints all left a mesh service (no DNS), and refuses outside hosts under REGISTRY_ONLY', async () => {
    const ns = 'shop.bookinfo.svc.cluster.local';
    fakes = [await fakeEndpoint('shop')];
    clusters.setEndpoints(ns, [instance('a', fakes[0]!.port, 'v1')]);
    const { request } = edges();
    expect(((await (await request('http://shop.bookinfo/')).body.json()) as { name: string }).name).to.equal('shop');
    clusters.setEndpoints(ns, []);
    const gone = await request('http://shop.bookinfo/').catch((e: unknown) => e);
    expect(isWeftErrorCode(gone, 'NO_HEALTHY_UPSTREAM'), String(gone)).to.equal(true);

    const strict = edges('REGISTRY_ONLY');
    const blocked = await strict.request('http://10.0.0.1/').catch((e: unknown) => e);
    expect(isWeftErrorCode(blocked, 'EXTERNAL_HOST_BLOCKED'), String(blocked)).to.equal(true);
    expect((blocked as { status: number }).status).to.equal(502);
    // Loopback never passes a sidecar, so REGISTRY_ONLY leaves it alone.
    const local = await strict.request(`http://127.0.0.1:${fakes[0]!.port}/`);
    expect(local.statusCode).to.equal(200);
    await local.body.text();
  });

  it("ends a wait for weftd's answer when the caller aborts, with the signal's reason", async () => {
    const { fetch, request } = edges('ALLOW_ANY', false);
    for (const url of ['http://details/', 'http://example.com/']) {
      const e = await fetch(url, { signal: AbortSignal.timeout(20) }).catch((err: unknown) => err);
      expect((e as DOMException).name, url).to.equal('TimeoutError');
      const controller = new AbortController();
      const pending = request(url, { signal: controller.signal }).catch((err: unknown) => err);
      controller.abort();
      expect(((await pending) as DOMException).name, url).to.equal('AbortError');
    }
    expect(awaited).to.include.members(['details.bookinfo.svc.cluster.local', 'example.com.svc.cluster.local']);
  });
});
