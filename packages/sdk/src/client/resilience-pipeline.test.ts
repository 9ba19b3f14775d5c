// The fault, mirror, timeout and retry stages in the real chain (route → fault → mirror → timeout →
// retry → pick → transport) against plain http servers on 127.0.0.1 port 0: what is retried and where,
// flags and messages of the failures, deadlines, faults and copies. No weftd: the endpoints are set on
// the ClusterDirectory directly.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { InstanceMsg } from '@weft/api';
import { compileConfig } from '../config/config-compiler.js';
import { EMPTY_CONFIG, type CompiledConfig } from '../config/compiled.js';
import { resourceMsg } from '../config/test-resources.js';
import { isWeftError, isWeftErrorCode, type WeftError } from '../errors.js';
import { ClusterDirectory } from './clusters.js';
import { faultStage } from './fault-stage.js';
import { fetchEdge } from './fetch-edge.js';
import { RESPONSE_FLAGS_HEADER } from './fetch-response.js';
import { mirrorStage } from './mirror-stage.js';
import { pickStage } from './pick-stage.js';
import { compose, type OutboundRequest, type OutboundResponse } from './pipeline.js';
import { newResilienceStats, type ResilienceStats } from './resilience-stats.js';
import type { RetryBudgetSettings } from './retry-budget.js';
import { retryStage } from './retry-stage.js';
import { routeStage } from './route-stage.js';
import { TargetParser } from './target.js';
import { timeoutStage } from './timeout-stage.js';
import { Transport } from './transport.js';

const NS = 'bookinfo';
const HOST = 'ratings.bookinfo.svc.cluster.local';
const MIRROR_HOST = 'ratings-next.bookinfo.svc.cluster.local';

type Behaviour = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;
interface Upstream { name: string; server: http.Server; port: number; hits: number; hosts: string[]; headers: http.IncomingHttpHeaders[] }

async function upstream(name: string, behave: Behaviour): Promise<Upstream> {
  const u: Upstream = { name, server: http.createServer(), port: 0, hits: 0, hosts: [], headers: [] };
  u.server.on('request', (req, res) => {
    u.hits++;
    u.hosts.push(req.headers.host ?? '');
    u.headers.push(req.headers);
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => behave(req, res, body));
  });
  await new Promise<void>((r) => u.server.listen(0, '127.0.0.1', () => r()));
  u.port = (u.server.address() as AddressInfo).port;
  return u;
}

const ok = (name: string): Behaviour => (_req, res) => res.end(name);
const status = (code: number): Behaviour => (_req, res) => {
  res.statusCode = code;
  res.end(`status ${code}`);
};
const after = (ms: number, b: Behaviour): Behaviour => (req, res, body) => {
  const t = setTimeout(() => b(req, res, body), ms);
  res.on('close', () => clearTimeout(t));
};

/** A port with nothing listening: a connection to it is refused. */
async function deadPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function instance(id: string, port: number, version = 'v1'): InstanceMsg {
  return { instanceId: id, workloadName: `ratings-${version}`, labels: { app: 'ratings', version }, serviceAccount: 'sa', endpoint: { address: '127.0.0.1', port, protocol: 'http', servicePort: 0 } };
}

describe('resilience stages in the client pipeline (real sockets)', function () {
  this.timeout(20000);
  let ups: Upstream[];
  let transport: Transport;
  let clusters: ClusterDirectory;
  let config: CompiledConfig;
  let stats: ResilienceStats;

  interface Options { budget?: RetryBudgetSettings | undefined; maxMirrors?: number; random?: () => number }
  function chain(o: Options = {}) {
    const awaitHost = async (): Promise<void> => undefined;
    const handler = compose(
      [
        routeStage({ config: () => config }),
        faultStage({ stats, random: o.random }),
        mirrorStage({ stats, maxInFlight: o.maxMirrors ?? 100, random: o.random }),
        timeoutStage({ stats }),
        retryStage({ config: () => config, stats, budget: 'budget' in o ? o.budget : { ratio: 0.2, minPerSecond: 10, windowMs: 10_000 } }),
        pickStage({ clusters, awaitHost }),
      ],
      transport.handler,
    );
    const targets = new TargetParser(NS);
    /** Sends one request and keeps the OutboundRequest, to read its record. */
    const send = async (url: string, init: { method?: string; headers?: Record<string, string>; body?: OutboundRequest['body'] } = {}): Promise<{ req: OutboundRequest; res?: OutboundResponse; error?: WeftError; text?: string; ms: number }> => {
      const target = targets.parse(url);
      const req: OutboundRequest = {
        method: init.method ?? 'GET', target, headers: { host: target.authority, ...(init.headers ?? {}) }, body: init.body ?? null, signal: undefined,
        external: false, route: undefined, endpoint: undefined, record: { flags: [], attempts: 0 },
      };
      const start = Date.now();
      try {
        const res = await handler(req);
        const text = await res.body.text();
        return { req, res, text, ms: Date.now() - start };
      } catch (e) {
        if (!isWeftError(e)) throw e;
        return { req, error: e, ms: Date.now() - start };
      }
    };
    return { send, statusFetch: fetchEdge(handler, targets, () => undefined, 'status') };
  }

  function apply(...resources: ReturnType<typeof resourceMsg>[]): void {
    config = compileConfig(String(Math.random()), resources, NS);
    clusters.setConfig(config);
  }
  const vs = (route: Record<string, unknown>) => resourceMsg('VirtualService', NS, 'ratings', { hosts: ['ratings'], http: [{ route: [{ destination: { host: 'ratings' } }], ...route }] });
  const roundRobin = (extra: Record<string, unknown> = {}) => resourceMsg('DestinationRule', NS, 'ratings', { host: 'ratings', trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' }, ...extra } });

  async function endpoints(...list: Upstream[] | number[]): Promise<void> {
    clusters.setEndpoints(HOST, list.map((u, i) => instance(`i${i}`, typeof u === 'number' ? u : u.port)));
  }

  beforeEach(() => {
    ups = [];
    transport = new Transport();
    clusters = new ClusterDirectory();
    config = EMPTY_CONFIG;
    stats = newResilienceStats();
  });

  afterEach(async () => {
    await transport.close(200);
    for (const u of ups) {
      u.server.closeAllConnections();
      await new Promise((r) => u.server.close(r));
    }
  });

  it("Istio's default policy: a refused connection is retried on the other endpoint, a 503 answer is not retried", async () => {
    ups = [await upstream('up', status(503))];
    await endpoints(ups[0]!.port, await deadPort());
    apply(roundRobin());
    const { send } = chain();
    for (let i = 0; i < 10; i++) {
      const r = await send('http://ratings/x');
      expect(r.res?.statusCode, r.error?.message).to.equal(503);
      expect(r.req.record.flags).to.deep.equal([]);
    }
    expect(ups[0]!.hits, 'each 503 answered once: not retried').to.equal(10);
    // Round robin over [up, dead]: the requests whose turn fell on the dead port were retried on the other.
    expect(stats.retries).to.be.within(5, 10);
    expect(stats.retriesExhausted).to.equal(0);
  });

  it('retryOn 5xx: a retry lands on another endpoint (previous hosts), never the one that failed', async () => {
    ups = [await upstream('bad', status(503)), await upstream('good', ok('good'))];
    await endpoints(...ups);
    apply(roundRobin(), vs({ retries: { attempts: 2, retryOn: '5xx' } }));
    const { send } = chain();
    for (let i = 0; i < 20; i++) expect((await send('http://ratings/x')).text).to.equal('good');
    expect(ups[0]!.hits).to.equal(stats.retries);
    expect(ups[1]!.hits).to.equal(20);
  });

  it('attempts all used: the last answer comes back flagged URX; failures before an answer say route, attempts and endpoints with UF,URX', async () => {
    ups = [await upstream('bad', status(503))];
    await endpoints(...ups);
    apply(vs({ name: 'ratings-route', retries: { attempts: 2, retryOn: 'gateway-error', backoff: '1ms' } }));
    const { send } = chain();
    const r = await send('http://ratings/x');
    expect(r.res!.statusCode).to.equal(503);
    expect(r.req.record.flags).to.deep.equal(['URX']);
    expect(ups[0]!.hits).to.equal(3);
    expect(stats).to.include({ retries: 2, retriesExhausted: 1 });

    const [a, b] = [await deadPort(), await deadPort()];
    await endpoints(a, b);
    const f = await send('http://ratings/x');
    expect(f.error!.code).to.equal('UPSTREAM_CONNECT_FAILURE');
    expect(f.error!.flag).to.equal('UF,URX');
    expect(f.error!.status).to.equal(503);
    expect(f.error!.message).to.match(/^upstream connect error for ratings\.bookinfo\.svc\.cluster\.local at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED \(route ratings-route to ratings\.bookinfo\.svc\.cluster\.local; 3 attempts on 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+; retries exhausted\)$/);
    expect(f.error!.message).to.not.contain('\n');
    const mine = f.error!.message.match(/127\.0\.0\.1:(\d+)/g)!.slice(1).map((s) => Number(s.split(':')[1]));
    expect(mine[0]).to.not.equal(mine[1]); // the retry went to the other endpoint
  });

  it('attempts: 0 sends once; no healthy upstream is never retried and says the route and that no endpoint was picked', async () => {
    ups = [await upstream('bad', status(503))];
    await endpoints(...ups);
    apply(vs({ retries: { attempts: 0 } }));
    const { send } = chain();
    expect((await send('http://ratings/x')).res!.statusCode).to.equal(503);
    expect(ups[0]!.hits).to.equal(1);
    await endpoints();
    const e = (await send('http://ratings/x')).error!;
    expect(e.code).to.equal('NO_HEALTHY_UPSTREAM');
    expect(e.message).to.equal('no healthy upstream for ratings.bookinfo.svc.cluster.local (route bookinfo/ratings#0 to ratings.bookinfo.svc.cluster.local; 1 attempt, no endpoint picked)');
  });

  it('perTryTimeout ends a slow attempt and the retry goes elsewhere; all attempts slow: UT,URX after about attempts × perTryTimeout', async () => {
    ups = [await upstream('slow', after(2000, ok('slow'))), await upstream('fast', ok('fast'))];
    await endpoints(...ups);
    apply(roundRobin(), vs({ retries: { attempts: 2, perTryTimeout: '100ms', retryOn: 'reset' } }));
    const { send } = chain();
    for (let i = 0; i < 4; i++) {
      const r = await send('http://ratings/x');
      expect(r.text).to.equal('fast');
      expect(r.ms).to.be.below(1500);
    }
    expect(stats.perTryTimeouts).to.equal(ups[0]!.hits);
    await endpoints(ups[0]!);
    const r = await send('http://ratings/x');
    expect(r.error!.code).to.equal('UPSTREAM_TIMEOUT');
    expect(r.error!.flag).to.equal('UT,URX');
    expect(r.error!.status).to.equal(504);
    expect(r.req.record.flags).to.deep.equal(['UT', 'URX']);
    expect(r.error!.message).to.match(/^upstream request timeout: no response within perTryTimeout 100 ms \(route .*; 3 attempts on .*; retries exhausted\)$/);
    expect(r.ms).to.be.within(290, 1500);
  });

  it('the route timeout spans every attempt and backoff: 504 UT at the deadline, whatever attempts remain', async () => {
    ups = [await upstream('slow', after(5000, ok('slow')))];
    await endpoints(...ups);
    apply(vs({ timeout: '350ms', retries: { attempts: 50, perTryTimeout: '100ms', retryOn: '5xx' } }));
    const { send, statusFetch } = chain();
    const r = await send('http://ratings/x');
    expect(r.error!.code).to.equal('UPSTREAM_TIMEOUT');
    expect(r.error!.flag).to.equal('UT');
    expect(r.error!.message).to.match(/^upstream request timeout: no complete response within 350 ms \(the route timeout\) \(route bookinfo\/ratings#0 to ratings\.bookinfo\.svc\.cluster\.local; [234] attempts on /);
    expect(r.ms).to.be.within(340, 1500);
    expect(ups[0]!.hits).to.be.within(2, 4);
    const res = await statusFetch('http://ratings/x');
    expect(res.status).to.equal(504);
    expect(res.headers.get(RESPONSE_FLAGS_HEADER)).to.equal('UT');
    expect(await res.text()).to.equal('upstream request timeout');
  });

  it('x-envoy-upstream-rq-timeout-ms overrides the route timeout (0 disables it) and never reaches the upstream', async () => {
    ups = [await upstream('slow', after(300, ok('slow')))];
    await endpoints(...ups);
    apply(vs({ timeout: '100ms' }));
    const { send } = chain();
    expect((await send('http://ratings/x')).error!.code).to.equal('UPSTREAM_TIMEOUT');
    const longer = await send('http://ratings/x', { headers: { 'x-envoy-upstream-rq-timeout-ms': '2000' } });
    expect(longer.text).to.equal('slow');
    expect((await send('http://ratings/x', { headers: { 'x-envoy-upstream-rq-timeout-ms': '0' } })).text).to.equal('slow');
    const shorter = await send('http://ratings/x', { headers: { 'x-envoy-upstream-rq-timeout-ms': '50' } });
    expect(shorter.error!.message).to.contain('within 50 ms (x-envoy-upstream-rq-timeout-ms)');
    for (const h of ups[0]!.headers) expect(h).to.not.have.property('x-envoy-upstream-rq-timeout-ms');
  });

  it('the route timeout covers the body: a body still streaming at the deadline fails with UT', async () => {
    ups = [await upstream('dribble', (_req, res) => {
      res.write('part one;');
      const t = setTimeout(() => res.end('part two'), 1000);
      res.on('close', () => clearTimeout(t));
    })];
    await endpoints(...ups);
    apply(vs({ timeout: '200ms' }));
    const { send } = chain();
    const r = await send('http://ratings/x');
    expect(isWeftErrorCode(r.error, 'UPSTREAM_TIMEOUT'), String(r.error)).to.equal(true);
    expect(r.ms).to.be.within(190, 900);
    expect(r.req.record.flags).to.deep.equal(['UT']);
  });

  it('a stream body already sent is not retried; a buffered one is', async () => {
    ups = [await upstream('resets', (req) => req.socket.destroy()), await upstream('fine', (_req, res, body) => res.end(`got ${body}`))];
    await endpoints(...ups);
    apply(roundRobin(), vs({ retries: { attempts: 1, retryOn: 'reset' } }));
    const { send } = chain();
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await send('http://ratings/x', { method: 'POST', body: Readable.from([Buffer.from('streamed')]) }));
    const reset = results.filter((r) => r.error !== undefined);
    expect(reset.length).to.equal(2);
    expect(reset[0]!.error!.code).to.equal('UPSTREAM_RESET');
    expect(reset[0]!.error!.message).to.contain('not retried: the request body was a stream, already sent');
    expect(stats.retriesSkippedStreamBody).to.equal(2);
    for (let i = 0; i < 4; i++) expect((await send('http://ratings/x', { method: 'POST', body: 'buffered' })).text).to.equal('got buffered');
  });

  it('the retry budget caps retries under total failure (attempts counted at the server) and flags the refused ones UO', async () => {
    ups = [await upstream('down', status(503))];
    await endpoints(...ups);
    apply(vs({ retries: { attempts: 3, retryOn: '5xx', backoff: '1ms' } }));
    const { send } = chain({ budget: { ratio: 0.2, minPerSecond: 1, windowMs: 10_000 } });
    let uo = 0;
    for (let i = 0; i < 100; i++) if ((await send('http://ratings/x')).req.record.flags.includes('UO')) uo++;
    // 100 first attempts; retries at most 20 % of them plus the reserve of 1/s over 10 s.
    expect(ups[0]!.hits).to.be.within(100, 130);
    expect(stats.retries).to.equal(ups[0]!.hits - 100);
    expect(stats.retryBudgetExhausted).to.equal(uo);
    expect(uo).to.be.above(80);
    // Without the budget every request would have made 4 attempts.
    const unbounded = chain({ budget: undefined });
    await unbounded.send('http://ratings/x');
    expect(ups[0]!.hits - 100 - stats.retries).to.equal(1);
  });

  it('DestinationRule caps: maxRetries 0 lets no retry go (UO, counted); retryBudget overrides it', async () => {
    ups = [await upstream('down', status(503))];
    await endpoints(...ups);
    apply(resourceMsg('DestinationRule', NS, 'ratings', { host: 'ratings', trafficPolicy: { connectionPool: { http: { maxRetries: 0 } } } }), vs({ retries: { attempts: 2, retryOn: '503' } }));
    const { send } = chain();
    const r = await send('http://ratings/x');
    expect(r.req.record.flags).to.deep.equal(['UO']);
    expect(ups[0]!.hits).to.equal(1);
    expect(stats.retryOverflow).to.equal(1);
    apply(resourceMsg('DestinationRule', NS, 'ratings', { host: 'ratings', trafficPolicy: { connectionPool: { http: { maxRetries: 0 } }, retryBudget: { percent: 20, minRetryConcurrency: 1 } } }), vs({ retries: { attempts: 2, retryOn: '503' } }));
    expect((await send('http://ratings/x')).req.record.flags).to.deep.equal(['URX']);
    expect(ups[0]!.hits).to.equal(4);
  });

  it("fault abort answers the rule's status with Envoy's body and FI, sends nothing, and is never retried", async () => {
    ups = [await upstream('up', ok('up'))];
    await endpoints(...ups);
    apply(vs({ fault: { abort: { httpStatus: 418, percentage: { value: 100 } } }, retries: { attempts: 3, retryOn: '5xx,retriable-4xx' } }));
    const { send, statusFetch } = chain();
    const r = await send('http://ratings/x');
    expect(r.error!.code).to.equal('FAULT_ABORT');
    expect(r.error!.status).to.equal(418);
    expect(r.error!.flag).to.equal('FI');
    expect(r.error!.message).to.equal('fault filter abort: route bookinfo/ratings#0 answered HTTP 418 in place of ratings.bookinfo.svc.cluster.local (fault.abort of the VirtualService, 100% of requests); no attempt made');
    const res = await statusFetch('http://ratings/x');
    expect([res.status, await res.text(), res.headers.get(RESPONSE_FLAGS_HEADER)]).to.deep.equal([418, 'fault filter abort', 'FI']);
    expect(ups[0]!.hits).to.equal(0);
    expect(stats.faultAborts).to.equal(2);
  });

  it('fault delay holds the request before the timeout starts (DI), and the draws follow the percentage', async () => {
    ups = [await upstream('up', ok('up'))];
    await endpoints(...ups);
    apply(vs({ timeout: '100ms', fault: { delay: { fixedDelay: '200ms', percent: 100 } } }));
    const { send } = chain();
    const r = await send('http://ratings/x');
    expect(r.text).to.equal('up');
    expect(r.ms).to.be.at.least(195);
    expect(r.req.record.flags).to.deep.equal(['DI']);
    // Draws per million against the rule's share: 0.25 of a million is below 50 %, 0.75 is not.
    let draw = 0.25;
    apply(vs({ fault: { abort: { httpStatus: 503, percentage: { value: 50 } } } }));
    const drawn = chain({ random: () => draw });
    expect((await drawn.send('http://ratings/x')).error?.code).to.equal('FAULT_ABORT');
    draw = 0.75;
    expect((await drawn.send('http://ratings/x')).text).to.equal('up');
  });

  it('mirror: a copy with -shadow appended to the host, after the primary; its failure or slowness never reaches the caller; bounded and counted', async () => {
    ups = [await upstream('primary', ok('primary'))];
    const mirror = await upstream('mirror', after(5000, ok('mirror')));
    ups.push(mirror);
    await endpoints(ups[0]!);
    clusters.setEndpoints(MIRROR_HOST, [instance('m', mirror.port)]);
    apply(vs({ mirror: { host: 'ratings-next' } }));
    const { send } = chain({ maxMirrors: 2 });
    for (let i = 0; i < 5; i++) {
      const r = await send('http://ratings:9080/x', { method: 'POST', body: 'copy me' });
      expect(r.text).to.equal('primary');
      expect(r.ms).to.be.below(1000);
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(mirror.hosts).to.deep.equal(['ratings-shadow:9080', 'ratings-shadow:9080']);
    expect(stats).to.include({ mirrorsSent: 2, mirrorsDropped: 3, mirrorsInFlight: 2 });
    // A stream body is not copied.
    await send('http://ratings/x', { method: 'POST', body: Readable.from(['s']) });
    expect(stats.mirrorsSkippedStreamBody).to.equal(1);
  });

  it('mirror to a refused port: the caller gets its answer, the copy is counted as failed', async () => {
    ups = [await upstream('primary', ok('primary'))];
    await endpoints(ups[0]!);
    clusters.setEndpoints(MIRROR_HOST, [instance('m', await deadPort())]);
    apply(vs({ mirrors: [{ destination: { host: 'ratings-next' }, percentage: { value: 100 } }] }));
    const { send } = chain();
    expect((await send('http://ratings/x')).text).to.equal('primary');
    await new Promise((r) => setTimeout(r, 200));
    expect(stats).to.include({ mirrorsSent: 1, mirrorsFailed: 1, mirrorsInFlight: 0 });
  });
});
