// DestinationRule trafficPolicy end to end: a real weftd, workloads registered with join tokens, rules
// applied through the admin API, and what each workload receives counted by the workload itself.
// Circuit breaking (Istio's task settings) overflows at once with UO while only the allowed requests
// arrive; outlier detection ejects a failing endpoint, sends it nothing while ejected and takes it back;
// panic mode; consistent hash by header (stable, and ~1/N of the keys move when an endpoint joins) and by
// a cookie made when absent; warmup ramps a new endpoint up; PEAK_EWMA steers away from an endpoint that
// turns slow within a second.
import { expect } from 'chai';
import type { Server } from 'node:http';
import { createMesh, isWeftError, type Mesh } from '@weft/sdk';
import { createToken, startWeftd, type WeftdHandle } from '../support/weftd.js';
import { applyYaml, NS, waitFor } from './sdk-fixtures.js';

const CART = `cart.${NS}.svc.cluster.local`;

/** A cart workload whose answers the test steers (status, delay) and counts. */
interface Cart {
  name: string;
  mesh: Mesh;
  server: Server;
  hits: number;
  inFlight: number;
  maxInFlight: number;
  status: number;
  delayMs: number;
}

async function startCart(weftd: WeftdHandle, name: string, labels: Record<string, string> = {}): Promise<Cart> {
  const mesh = await createMesh({ service: 'cart', namespace: NS, labels, controlPlane: weftd.grpcAddress, token: await createToken(weftd.grpcAddress, NS), initialTimeoutMs: 5000, drainTimeoutMs: 500 });
  const cart = { name, mesh, hits: 0, inFlight: 0, maxInFlight: 0, status: 200, delayMs: 0 } as Cart;
  cart.server = await mesh.serve((req, res) => {
    cart.hits++;
    cart.inFlight++;
    cart.maxInFlight = Math.max(cart.maxInFlight, cart.inFlight);
    const answer = () => {
      cart.inFlight--;
      res.statusCode = cart.status;
      res.end(name);
    };
    if (cart.delayMs > 0) setTimeout(answer, cart.delayMs);
    else answer();
  }, { port: 0, host: '127.0.0.1' });
  return cart;
}

function rule(trafficPolicy: string): string {
  return `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: cart, namespace: ${NS} }
spec:
  host: cart
  trafficPolicy:
${trafficPolicy.replace(/^/gm, '    ')}
`;
}

describe('DestinationRule trafficPolicy with weftd: circuit breaking, outlier detection, consistent hash, warmup, PEAK_EWMA', function () {
  this.timeout(60_000);
  let weftd: WeftdHandle;
  let carts: Cart[];
  let client: Mesh;

  async function setup(n: number, trafficPolicy: string): Promise<void> {
    weftd = await startWeftd();
    carts = [];
    for (let i = 0; i < n; i++) carts.push(await startCart(weftd, `cart-${i}`));
    client = await createMesh({ service: 'web', namespace: NS, controlPlane: weftd.grpcAddress, caFile: weftd.caFile, subscribe: ['cart'] });
    const revision = await applyYaml(weftd.adminUrl, rule(trafficPolicy));
    await waitFor('the rule and every cart endpoint in the client', () => client.status().configVersion === String(revision) && client.status().hosts[CART] === n);
  }

  afterEach(async () => {
    await client?.close();
    for (const c of carts ?? []) await c.mesh.close();
    await weftd?.stop();
  });

  const send = async (headers: Record<string, string> = {}): Promise<string> => {
    const res = await client.request('http://cart/', { headers });
    return res.body.text();
  };

  it("fails fast with UO beyond the circuit-breaking task's limits, and only the allowed requests arrive", async () => {
    await setup(1, `
connectionPool:
  tcp: { maxConnections: 1 }
  http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 }
outlierDetection: { consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 3m, maxEjectionPercent: 100 }`);
    const cart = carts[0]!;
    cart.delayMs = 300;
    const started = Date.now();
    const outcomes = await Promise.all(Array.from({ length: 10 }, async () => {
      try {
        const r = await client.request('http://cart/');
        await r.body.text();
        return { ok: r.statusCode === 200, at: Date.now() - started };
      } catch (e) {
        return { ok: false, at: Date.now() - started, code: isWeftError(e) ? `${e.code} ${e.status} ${e.flag}` : String(e) };
      }
    }));
    const refused = outcomes.filter((o) => !o.ok);
    expect(refused.map((o) => o.code)).to.deep.equal(Array(8).fill('UPSTREAM_OVERFLOW 503 UO'));
    for (const o of refused) expect(o.at, 'a refusal waits for nothing').to.be.below(250);
    expect(cart.hits).to.equal(2);
    expect(cart.maxInFlight).to.equal(1);
    // The connections are given back as the response bodies close.
    await waitFor('no request holding a connection', () => client.clusterStats().find((s) => s.host === CART)?.active === 0, 2000);
    expect(client.clusterStats().find((s) => s.host === CART)).to.include({ overflows: 8, active: 0, pending: 0 });
  });

  it('ejects an endpoint answering 503, sends it nothing while ejected, and takes it back after baseEjectionTime', async () => {
    await setup(3, `
loadBalancer: { simple: ROUND_ROBIN }
outlierDetection: { consecutive5xxErrors: 2, interval: 100ms, baseEjectionTime: 1s, maxEjectionPercent: 100 }`);
    const bad = carts[2]!;
    bad.status = 503;
    for (let i = 0; i < 30 && bad.hits < 2; i++) await send();
    expect(bad.hits).to.equal(2);
    const ejectedAt = Date.now();
    let sent = 0;
    while (Date.now() - ejectedAt < 800) {
      expect(await send()).to.not.equal(bad.name);
      sent++;
    }
    expect(sent).to.be.greaterThan(10);
    expect(bad.hits).to.equal(2);
    expect(client.clusterStats().find((s) => s.host === CART)).to.include({ ejected: 1, ejectionsTotal: 1 });
    await new Promise((r) => setTimeout(r, Math.max(0, 1300 - (Date.now() - ejectedAt))));
    for (let i = 0; i < 6; i++) await send();
    expect(bad.hits, 'back after its ejection time').to.be.greaterThan(2);
  });

  it('uses every endpoint again, ejected ones included, once fewer than minHealthPercent are healthy (panic)', async () => {
    await setup(3, `
loadBalancer: { simple: ROUND_ROBIN }
outlierDetection: { consecutive5xxErrors: 1, baseEjectionTime: 1m, maxEjectionPercent: 100, minHealthPercent: 50 }`);
    carts[1]!.status = 503;
    carts[2]!.status = 503;
    for (let i = 0; i < 6; i++) await send();
    expect(client.clusterStats().find((s) => s.host === CART)).to.include({ ejected: 2, panic: true });
    const before = carts.map((c) => c.hits);
    for (let i = 0; i < 30; i++) await send();
    expect(carts.map((c, i) => c.hits - before[i]!)).to.deep.equal([10, 10, 10]);
  });

  it('sends each user (httpHeaderName) to one endpoint; when an endpoint joins, about 1/N of the users move, all to it', async () => {
    await setup(4, `
loadBalancer:
  consistentHash:
    httpHeaderName: x-user
    ringHash: { minimumRingSize: 1024 }`);
    const users = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    const owner = new Map<string, string>();
    for (const u of users) owner.set(u, await send({ 'x-user': u }));
    for (const u of users.slice(0, 50)) expect(await send({ 'x-user': u }), u).to.equal(owner.get(u));
    expect(new Set(owner.values()).size).to.equal(4);
    carts.push(await startCart(weftd, 'cart-4'));
    await waitFor('the fifth endpoint', () => client.status().hosts[CART] === 5);
    let moved = 0;
    for (const u of users) {
      const now = await send({ 'x-user': u });
      if (now === owner.get(u)) continue;
      moved++;
      expect(now, `${u} moved`).to.equal('cart-4');
    }
    expect(moved / users.length).to.be.within(0.08, 0.35); // 1/5 expected
  });

  it('makes a cookie (httpCookie with ttl) when the request has none, sets it on the response, and sticks to it', async () => {
    await setup(3, `
loadBalancer:
  consistentHash:
    httpCookie: { name: session, path: /, ttl: 3600s }
    maglev: { tableSize: 65537 }`);
    const first = await client.fetch('http://cart/');
    const setCookie = first.headers.get('set-cookie')!;
    expect(setCookie).to.match(/^session="[0-9a-f]{16}"; Max-Age=3600; Path=\/; HttpOnly$/);
    const name = await first.text();
    const cookie = `session=${/"(.*)"/.exec(setCookie)![1]}`;
    for (let i = 0; i < 20; i++) {
      const r = await client.fetch('http://cart/', { headers: { cookie } });
      expect(r.headers.get('set-cookie')).to.equal(null);
      expect(await r.text()).to.equal(name);
    }
  });

  it('ramps a new endpoint up over the warmup duration (slow start), then gives it its share', async () => {
    await setup(2, `
loadBalancer:
  simple: ROUND_ROBIN
  warmup: { duration: 3s, minimumPercent: 10 }`);
    // The first endpoints ramp together (Envoy's hosts of a new cluster do too): let them finish.
    await new Promise((r) => setTimeout(r, 3000));
    carts.push(await startCart(weftd, 'cart-2'));
    await waitFor('the third endpoint', () => client.status().hosts[CART] === 3);
    const share = async (n: number) => {
      const before = carts[2]!.hits;
      for (let i = 0; i < n; i++) await send();
      return (carts[2]!.hits - before) / n;
    };
    const early = await share(100);
    expect(early, 'weight about 0.1 against 1 and 1 right after it joined').to.be.below(0.2);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await share(99)).to.be.within(0.3, 0.37);
  });

  it('PEAK_EWMA steers away from an endpoint that turns slow within a second', async () => {
    await setup(4, 'loadBalancer: { simple: PEAK_EWMA }');
    const slow = carts[0]!;
    const load = async (ms: number) => {
      const end = Date.now() + ms;
      const worker = async () => {
        while (Date.now() < end) await send();
      };
      await Promise.all(Array.from({ length: 8 }, worker));
    };
    await load(500);
    expect(slow.hits, 'a fair share while it is fast').to.be.greaterThan(20);
    slow.delayMs = 500;
    const atSlow = slow.hits;
    await load(1000);
    // Within the first second only the requests that found it fast, or piled up before its estimate rose.
    expect(slow.hits - atSlow, 'requests sent to it in the second after it turned slow').to.be.below(15);
    const afterFirstSecond = slow.hits;
    const othersBefore = carts.slice(1).reduce((s, c) => s + c.hits, 0);
    await load(1000);
    const othersAfter = carts.slice(1).reduce((s, c) => s + c.hits, 0);
    expect(slow.hits - afterFirstSecond, 'requests sent to it in the second after that').to.be.below(3);
    expect(othersAfter - othersBefore).to.be.greaterThan(100);
  });
});
