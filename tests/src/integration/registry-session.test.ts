// The session protocol of weftd with a raw grpc-js client over the session port's TLS: Hello/Welcome,
// config push, endpoint registration (by sessions that present a client certificate of the mesh CA)
// and subscription, liveness of a killed workload process, reconnect within the grace, ACK/NACK
// bookkeeping and INVALID_ARGUMENT for bad messages.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type { EndpointsUpdateMsg } from '@weft/api';
import { adminFetch, caFileOf, startWeftd, type WeftdHandle } from '../support/weftd.js';
import { allListedInstances, DEFAULT_IDENTITY, meshCertificate, RawSession, waitUntil } from './session-fixtures.js';

const REVIEWS = 'reviews.bookinfo.svc.cluster.local';

/** The instance list of `host` in the last EndpointsUpdate naming it, or undefined if none yet. */
function lastView(s: RawSession, host: string): EndpointsUpdateMsg['hosts'][number]['instances'] | undefined {
  for (let i = s.received.length - 1; i >= 0; i--) {
    const m = s.received[i]!;
    if (m.kind !== 'endpoints') continue;
    const h = m.endpoints.hosts.find((x) => x.host === host);
    if (h) return h.instances;
  }
  return undefined;
}

const TESTS_DIR = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A workload in its own process that registers one endpoint and then idles until killed. It proves
 * its identity with a client certificate of the mesh CA (made here, handed over in its environment).
 */
function spawnWorkload(address: string, instanceId: string, port: number): Promise<ChildProcess> {
  const cert = meshCertificate(address, DEFAULT_IDENTITY);
  const script = `
    import * as grpc from '@grpc/grpc-js';
    import { ControlPlaneClient } from '@weft/api';
    const env = (name) => Buffer.from(process.env[name]);
    // The parent checked weftd's identity on its own connections; this one trusts ca.pem's roots.
    const tls = grpc.credentials.createSsl(env('TEST_ROOTS'), env('TEST_KEY'), env('TEST_CHAIN'), { checkServerIdentity: () => undefined });
    const client = new ControlPlaneClient(${JSON.stringify(address)}, tls, { 'grpc.ssl_target_name_override': 'weftd' });
    const call = client.Session();
    call.on('error', () => {});
    call.on('data', (m) => { if (m.kind === 'welcome') console.log('welcomed'); });
    call.write({ hello: { workload: { instanceId: ${JSON.stringify(instanceId)}, service: 'reviews', namespace: 'bookinfo', serviceAccount: 'sa', labels: { version: 'v9' } } } });
    call.write({ register: { endpoints: [{ address: '127.0.0.1', port: ${port}, protocol: 'http', servicePort: 9080 }] } });
    setInterval(() => {}, 1000);
  `;
  const env = { ...process.env, TEST_ROOTS: readFileSync(caFileOf(address), 'utf8'), TEST_KEY: cert.keyPem, TEST_CHAIN: cert.chainPem };
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: TESTS_DIR, env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('workload process did not connect within 10 s')), 10000);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('welcomed')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`workload process exited early (${code})`)));
  });
}

describe('registry: session protocol', () => {
  let weftd: WeftdHandle;
  const sessions: RawSession[] = [];
  const children: ChildProcess[] = [];
  /** A session; `proven` presents the mesh CA's certificate for bookinfo/sa, so that it may register endpoints. */
  const open = (opts: { proven?: boolean } = {}) => {
    const s = new RawSession(weftd.grpcAddress, opts.proven ? { identity: DEFAULT_IDENTITY } : {});
    sessions.push(s);
    return s;
  };
  const apply = async (yaml: string) => {
    const res = await adminFetch(`${weftd.adminUrl}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: yaml });
    expect(res.status, await res.clone().text()).to.equal(200);
    return (await res.json()) as { revision: number };
  };

  beforeEach(async () => (weftd = await startWeftd()));
  afterEach(async () => {
    for (const s of sessions.splice(0)) s.close();
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await weftd.stop();
  });

  it('answers Hello with Welcome and the whole config snapshot', async () => {
    const { revision } = await apply('apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews, namespace: bookinfo}\nspec: {host: reviews}\n');
    const s = open();
    s.hello('i-1');
    const welcome = await s.waitFor('welcome');
    expect(welcome.welcome.sessionId).to.be.a('string').and.not.equal('');
    expect(welcome.welcome.serverId).to.be.a('string').and.not.equal('');
    const config = await s.waitFor('config');
    expect(config.config.version).to.equal(String(revision));
    expect(config.config.nonce).to.not.equal('');
    expect(config.config.resources.map((r) => [r.kind, r.namespace, r.name, r.version])).to.deep.equal([['DestinationRule', 'bookinfo', 'reviews', String(revision)]]);
    expect(JSON.parse(config.config.resources[0]!.specJson)).to.deep.equal({ host: 'reviews' });
  });

  it('ends a session with INVALID_ARGUMENT naming the problem', async () => {
    const first = open();
    first.send({ subscribe: { hosts: [REVIEWS] } });
    const e1 = await first.waitForError();
    expect(e1.code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(e1.details).to.contain('first message of a session must be hello');

    const badService = open();
    badService.hello('i-2', { service: 'Bad_Service' });
    const e2 = await badService.waitForError();
    expect(e2.code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(e2.details).to.contain('hello.workload.service "Bad_Service"');

    const badPort = open({ proven: true });
    badPort.hello('i-3');
    badPort.send({ register: { endpoints: [{ address: '127.0.0.1', port: 70000, protocol: 'http', servicePort: 9080 }] } });
    const e3 = await badPort.waitForError();
    expect(e3.details).to.contain('register.endpoints[0].port 70000');
    expect(await allListedInstances(weftd.adminUrl)).to.deep.equal([]);
  });

  it('answers a subscription with the full list (empty when none) and pushes changes to subscribers', async () => {
    const caller = open();
    caller.hello('caller-1', { service: 'productpage' });
    caller.send({ subscribe: { hosts: [REVIEWS] } });
    const empty = await caller.waitFor('endpoints');
    expect(empty.endpoints.hosts).to.deep.equal([{ host: REVIEWS, instances: [] }]);

    const server = open({ proven: true });
    server.hello('reviews-1', { labels: { version: 'v2' } });
    server.send({ register: { endpoints: [{ address: '127.0.0.1', port: 4242, protocol: 'http', servicePort: 9080 }] } });
    await waitUntil(() => (lastView(caller, REVIEWS) ?? []).length === 1, 3000, 'the new instance to be pushed');
    const instance = lastView(caller, REVIEWS)![0]!;
    expect(instance).to.deep.include({ instanceId: 'reviews-1', workloadName: 'reviews-w', serviceAccount: 'sa' });
    expect(instance.labels).to.deep.equal({ version: 'v2', app: 'reviews' });
    expect(instance.endpoint).to.deep.equal({ address: '127.0.0.1', port: 4242, protocol: 'http', servicePort: 9080, mtls: false });

    const services = (await (await adminFetch(`${weftd.adminUrl}/v1/services`)).json()) as { services: { host: string; instances: { instanceId: string; connected: boolean }[] }[] };
    const reviews = services.services.find((s) => s.host === REVIEWS)!;
    expect(reviews.instances.map((i) => [i.instanceId, i.connected])).to.deep.equal([['reviews-1', true]]);

    // Short and namespaced names resolve as Istio resolves them, in the caller's namespace (bookinfo).
    const shortNames = open();
    shortNames.hello('caller-1b', { service: 'details' });
    shortNames.send({ subscribe: { hosts: ['reviews', 'Reviews.Bookinfo'] } });
    const answer = await shortNames.waitFor('endpoints');
    expect(answer.endpoints.hosts.map((h) => [h.host, h.instances.length])).to.deep.equal([[REVIEWS, 1]]);
  });

  it('removes the endpoints of a SIGKILLed workload process from subscribers within 3 s', async () => {
    const caller = open();
    caller.hello('caller-2', { service: 'productpage' });
    caller.send({ subscribe: { hosts: [REVIEWS] } });
    const child = await spawnWorkload(weftd.grpcAddress, 'doomed-1', 5151);
    children.push(child);
    await waitUntil(() => (lastView(caller, REVIEWS) ?? []).length === 1, 5000, 'the workload to be listed');
    child.kill('SIGKILL');
    const took = await waitUntil(() => (lastView(caller, REVIEWS) ?? [1]).length === 0, 3000, 'the killed workload to leave');
    expect(took).to.be.lessThan(3000);
  });

  it('keeps the endpoints of a workload that reconnects within the grace period', async () => {
    const caller = open();
    caller.hello('caller-3', { service: 'productpage' });
    caller.send({ subscribe: { hosts: [REVIEWS] } });
    const first = open({ proven: true });
    first.hello('flaky-1');
    first.send({ register: { endpoints: [{ address: '127.0.0.1', port: 6000, protocol: 'http', servicePort: 9080 }] } });
    await waitUntil(() => (lastView(caller, REVIEWS) ?? []).length === 1, 3000, 'the workload to be listed');
    first.close();
    await new Promise((r) => setTimeout(r, 300));
    const second = open({ proven: true });
    second.hello('flaky-1');
    await second.waitFor('welcome');
    await new Promise((r) => setTimeout(r, 1500)); // past the 1 s grace
    expect(lastView(caller, REVIEWS)).to.have.length(1);
  });

  it('pushes an apply to every session and records ACKs and NACKs', async () => {
    const all = [open(), open(), open()];
    all.forEach((s, i) => s.hello(`multi-${i}`, { service: 'ratings' }));
    await Promise.all(all.map((s) => s.waitFor('config')));
    const { revision } = await apply('apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ratings, namespace: bookinfo}\nspec: {host: ratings}\n');
    const pushed = await Promise.all(all.map((s) => s.waitFor('config', (m) => m.config.version === String(revision))));
    expect(pushed.map((p) => p.config.resources.length)).to.deep.equal([1, 1, 1]);

    const [acker, nacker] = all;
    acker!.send({ ack: { type: 'config', version: pushed[0]!.config.version, nonce: pushed[0]!.config.nonce, error: '' } });
    nacker!.send({ ack: { type: 'config', version: pushed[1]!.config.version, nonce: pushed[1]!.config.nonce, error: 'cannot apply: test says no' } });
    nacker!.send({ ack: { type: 'config', version: '999', nonce: 'unknown-nonce', error: 'ignored' } });
    type Info = { instanceId: string; config: { sentVersion: string; ackedVersion: string; nack: { version: string; error: string } | null } };
    let infos: Info[] = [];
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      infos = ((await (await adminFetch(`${weftd.adminUrl}/v1/sessions`)).json()) as { sessions: Info[] }).sessions;
      const a = infos.find((i) => i.instanceId === 'multi-0');
      const n = infos.find((i) => i.instanceId === 'multi-1');
      if (a?.config.ackedVersion && n?.config.nack) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const a = infos.find((i) => i.instanceId === 'multi-0')!;
    const n = infos.find((i) => i.instanceId === 'multi-1')!;
    expect(a.config).to.deep.equal({ sentVersion: String(revision), ackedVersion: String(revision), nack: null });
    expect(n.config.nack).to.deep.equal({ version: String(revision), error: 'cannot apply: test says no' });
    expect(weftd.output()).to.contain('NACKed config version').and.contain('test says no');
  });

  it('holds endpoint updates of a resumed session during warmup after a restart', async function () {
    this.timeout(30_000);
    const dataDir = weftd.dataDir;
    await weftd.kill('SIGTERM');
    weftd = await startWeftd({ dataDir, args: ['--endpoint-grace', '1s'] });
    const startedAt = Date.now();
    const resumed = open();
    resumed.hello('resumer-1', { service: 'productpage', resume: true });
    resumed.send({ subscribe: { hosts: [REVIEWS] } });
    const fresh = open();
    fresh.hello('fresh-1', { service: 'productpage' });
    fresh.send({ subscribe: { hosts: [REVIEWS] } });
    await fresh.waitFor('endpoints');
    expect(resumed.received.some((m) => m.kind === 'endpoints')).to.equal(false);
    // Held for the SDK's longest reconnect delay and a margin (6.5 s), not only twice the 1 s grace.
    await resumed.waitFor('endpoints', () => true, 10_000);
    expect(Date.now() - startedAt).to.be.greaterThan(6000);
  });
});
