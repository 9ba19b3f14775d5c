// Retries and timeouts end to end: a real weftd, workloads serving through mesh.serve, a client mesh, and
// VirtualServices applied through the admin API. What is retried and where is counted at the servers.
import { expect } from 'chai';
import net from 'node:net';
import { createMesh, isWeftErrorCode, RESPONSE_FLAGS_HEADER, type Mesh, type MeshOptions, type WeftError } from '@weft/sdk';
import { after, answer, answerStatus, startBehavingWorkload, type BehavingWorkload } from '../support/behaving-workload.js';
import { startWeftd, type WeftdHandle } from '../support/weftd.js';
import { applyYaml, NS, waitFor } from './sdk-fixtures.js';
import { RawSession } from './session-fixtures.js';

const RATINGS = `ratings.${NS}.svc.cluster.local`;

const routeRatings = (fields: string) => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings, namespace: ${NS} }
spec:
  hosts: [ratings]
  http:
  - name: ratings-route
    route:
    - destination: { host: ratings }
${fields}
`;

/** A port nothing listens on. */
async function refusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function rejection(p: Promise<unknown>): Promise<WeftError> {
  try {
    await p;
  } catch (e) {
    return e as WeftError;
  }
  throw new Error('expected a rejection');
}

describe('retries and timeouts with weftd (Istio semantics)', function () {
  this.timeout(60000);
  let weftd: WeftdHandle;
  let workloads: BehavingWorkload[];
  let meshes: Mesh[];
  let raw: RawSession[];

  async function client(extra: Partial<MeshOptions> = {}): Promise<Mesh> {
    const m = await createMesh({ service: 'web', namespace: NS, controlPlane: weftd.grpcAddress, caFile: weftd.caFile, subscribe: ['ratings'], ...extra });
    meshes.push(m);
    return m;
  }

  async function ratings(name: string, behave: Parameters<typeof startBehavingWorkload>[3]): Promise<BehavingWorkload> {
    const w = await startBehavingWorkload(weftd.grpcAddress, 'ratings', { version: 'v1', name }, behave, { namespace: NS });
    workloads.push(w);
    return w;
  }

  async function apply(yaml: string, ...clients: Mesh[]): Promise<void> {
    const revision = await applyYaml(weftd.adminUrl, yaml);
    for (const c of clients) await waitFor(`config ${revision}`, () => Number(c.status().configVersion) >= revision);
  }

  beforeEach(async () => {
    weftd = await startWeftd();
    workloads = [];
    meshes = [];
    raw = [];
  });

  afterEach(async () => {
    for (const r of raw) r.close();
    for (const m of meshes) await m.close();
    for (const w of workloads) await w.stop();
    await weftd?.stop();
  });

  it("Istio's default retry policy: a refused connection is retried on another endpoint, a 503 answer is not", async () => {
    const up = await ratings('up', answerStatus(503));
    // An endpoint whose port refuses connections, registered by a session that proved the identity.
    const dead = new RawSession(weftd.grpcAddress, { identity: { namespace: NS, serviceAccount: 'default' } });
    raw.push(dead);
    dead.hello('ratings-dead', { service: 'ratings', namespace: NS, labels: { app: 'ratings', version: 'v1' } });
    dead.register([{ port: await refusedPort(), servicePort: 0, mtls: false }]);
    const web = await client();
    await waitFor('both ratings endpoints in view', () => web.status().hosts[RATINGS] === 2);
    for (let i = 0; i < 30; i++) {
      const res = await web.request('http://ratings/ratings/0');
      expect(res.statusCode).to.equal(503);
      await res.body.text();
    }
    expect(up.hits, 'every 503 answered once: not retried by default').to.equal(30);
    const s = web.stats().resilience;
    expect(s.retries, 'requests that met the refused port first were retried').to.be.above(0);
    expect(s.retriesExhausted).to.equal(0);
  });

  it('a retry goes to another endpoint: with retryOn 5xx every call ends on the healthy one, the failing one is tried at most once per call', async () => {
    const bad = await ratings('bad', answerStatus(503));
    const good = await ratings('good', answer('good'));
    const web = await client();
    await waitFor('two endpoints', () => web.status().hosts[RATINGS] === 2);
    await apply(routeRatings('    retries: { attempts: 3, retryOn: 5xx }'), web);
    for (let i = 0; i < 40; i++) {
      const res = await web.request('http://ratings/ratings/0');
      expect(await res.body.text()).to.equal('good');
    }
    expect(good.hits).to.equal(40);
    expect(bad.hits).to.equal(web.stats().resilience.retries);
    expect(bad.hits, 'never more than once per call').to.be.at.most(40);
  });

  it('attempts all used: the last answer comes back (retries exhausted, URX, counted); attempts: 0 sends once', async () => {
    const bad = await ratings('bad', answerStatus(503));
    const web = await client({ fetchErrors: 'status' });
    await waitFor('endpoint', () => web.status().hosts[RATINGS] === 1);
    await apply(routeRatings('    retries: { attempts: 2, retryOn: "503" }'), web);
    const res = await web.fetch('http://ratings/ratings/0');
    expect(res.status).to.equal(503);
    expect(bad.hits).to.equal(3);
    expect(web.stats().resilience.retriesExhausted).to.equal(1);
    await apply(routeRatings('    retries: { attempts: 0 }'), web);
    await web.fetch('http://ratings/ratings/0');
    expect(bad.hits).to.equal(4);
  });

  it('the retry budget caps retries under 100 % failure: attempts counted at the server stay near 1.2 × the calls', async () => {
    const down = await ratings('down', answerStatus(503));
    const budgeted = await client({ retryBudget: { ratio: 0.2, minPerSecond: 1, windowMs: 10_000 } });
    await waitFor('endpoint', () => budgeted.status().hosts[RATINGS] === 1);
    await apply(routeRatings('    retries: { attempts: 3, retryOn: 5xx, backoff: 1ms }'), budgeted);
    const calls = 200;
    let inFlight = 0;
    const one = async () => {
      inFlight++;
      const res = await budgeted.request('http://ratings/ratings/0');
      await res.body.text();
      inFlight--;
    };
    for (let i = 0; i < calls; i += 10) await Promise.all(Array.from({ length: 10 }, one));
    expect(inFlight).to.equal(0);
    // Without a budget: 4 attempts per call (800). With it: 200 first attempts + 20 % + a reserve of 10.
    expect(down.hits).to.be.within(calls, calls * 1.2 + 10);
    const s = budgeted.stats().resilience;
    expect(s.retries).to.equal(down.hits - calls);
    expect(s.retryBudgetExhausted).to.be.above(150);
  });

  it('perTryTimeout ends a slow attempt and the retry answers from the fast endpoint, well before the slow one would', async () => {
    await ratings('slow', after(3000, answer('slow')));
    await ratings('fast', answer('fast'));
    const web = await client();
    await waitFor('two endpoints', () => web.status().hosts[RATINGS] === 2);
    await apply(routeRatings('    retries: { attempts: 2, perTryTimeout: 200ms, retryOn: "reset,5xx" }'), web);
    for (let i = 0; i < 10; i++) {
      const t0 = Date.now();
      const res = await web.request('http://ratings/ratings/0');
      expect(await res.body.text()).to.equal('fast');
      expect(Date.now() - t0).to.be.below(2000);
    }
  });

  it('the route timeout spans all attempts: 504 upstream request timeout (UT) at the deadline, with route, destination, endpoint and attempts in the message', async () => {
    const slow = await ratings('slow', after(5000, answer('slow')));
    const web = await client();
    const envoyish = await client({ fetchErrors: 'status' });
    await waitFor('endpoint', () => web.status().hosts[RATINGS] === 1 && envoyish.status().hosts[RATINGS] === 1);
    await apply(routeRatings('    timeout: 600ms\n    retries: { attempts: 20, perTryTimeout: 150ms, retryOn: 5xx }'), web, envoyish);
    const t0 = Date.now();
    const e = await rejection(web.request('http://ratings/ratings/0'));
    const took = Date.now() - t0;
    expect(isWeftErrorCode(e, 'UPSTREAM_TIMEOUT'), String(e)).to.equal(true);
    expect(e).to.include({ status: 504, flag: 'UT' });
    expect(e.message).to.match(new RegExp(`^upstream request timeout: no complete response within 600 ms \\(the route timeout\\) \\(route ratings-route to ${RATINGS.replace(/\./g, '\\.')}; [3-5] attempts on 127\\.0\\.0\\.1:${(slow.server.address() as net.AddressInfo).port}, `));
    expect(took).to.be.within(590, 3000);
    expect(slow.hits).to.be.within(3, 5);
    const res = await envoyish.fetch('http://ratings/ratings/0');
    expect([res.status, await res.text(), res.headers.get(RESPONSE_FLAGS_HEADER)]).to.deep.equal([504, 'upstream request timeout', 'UT']);
  });

  it('x-envoy-upstream-rq-timeout-ms sets the deadline of one request and is not sent upstream', async () => {
    let seen: string | undefined = 'unset';
    const slow = await ratings('slow', after(400, (req, res) => {
      seen = req.headers['x-envoy-upstream-rq-timeout-ms'] as string | undefined;
      res.end('slow');
    }));
    const web = await client();
    await waitFor('endpoint', () => web.status().hosts[RATINGS] === 1);
    const e = await rejection(web.request('http://ratings/ratings/0', { headers: { 'x-envoy-upstream-rq-timeout-ms': '100' } }));
    expect(isWeftErrorCode(e, 'UPSTREAM_TIMEOUT')).to.equal(true);
    expect(e.message).to.contain('within 100 ms (x-envoy-upstream-rq-timeout-ms)');
    const ok = await web.request('http://ratings/ratings/0', { headers: { 'x-envoy-upstream-rq-timeout-ms': '3000' } });
    expect(await ok.body.text()).to.equal('slow');
    expect(seen).to.equal(undefined);
    expect(slow.hits).to.equal(2);
  });
});
