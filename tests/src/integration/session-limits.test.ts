// The limits of one session, end to end with a real weftd: endpoints and subscriptions per session,
// Hello field sizes, one live session per instance id (and the SDK's own reconnect when weftd has
// not yet seen its old stream end), views larger than gRPC's default 4 MiB reaching clients, and a
// NACK flood that leaves a few log lines. Every limit is in packages/api/src/limits.ts.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { MAX_ENDPOINTS_PER_SESSION, MAX_SUBSCRIPTIONS_PER_SESSION } from '@weft/api';
import { createMesh, type Mesh } from '@weft/sdk';
import { caFileOf, createToken, startWeftd, type WeftdHandle } from '../support/weftd.js';
import { DEFAULT_IDENTITY, expectHealthy, listedInstances, RawSession, sleep, startBlackholeProxy, waitUntil, type BlackholeProxy } from './session-fixtures.js';

const REVIEWS = 'reviews.bookinfo.svc.cluster.local';
const RATINGS = 'ratings.bookinfo.svc.cluster.local';
const DETAILS = 'details.bookinfo.svc.cluster.local';
const MiB = 1024 * 1024;

/** Eight labels of 63-character values: about 650 bytes per listed instance. */
const BULKY_LABELS = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`label-${i}`, `${i}`.repeat(63)]));

describe('session limits', function () {
  this.timeout(30_000);
  let weftd: WeftdHandle;
  const sessions: RawSession[] = [];
  const meshes: Mesh[] = [];
  /** A raw session; `proven` presents the mesh CA's certificate for bookinfo/sa, so that it may register endpoints. */
  const open = (opts: { receiveLimit?: number; proven?: boolean } = {}) => {
    const s = new RawSession(weftd.grpcAddress, { receiveLimit: opts.receiveLimit, identity: opts.proven ? DEFAULT_IDENTITY : undefined });
    sessions.push(s);
    return s;
  };

  afterEach(async () => {
    for (const s of sessions.splice(0)) s.close();
    await Promise.all(meshes.splice(0).map((m) => m.close()));
    if (weftd && weftd.proc.exitCode === null && weftd.proc.signalCode === null) {
      await expectHealthy(weftd);
      await weftd.stop();
    }
  });

  describe('what one session may hold', () => {
    beforeEach(async () => (weftd = await startWeftd()));

    it(`refuses more than ${MAX_ENDPOINTS_PER_SESSION} endpoints with RESOURCE_EXHAUSTED naming the limit`, async () => {
      const s = open({ proven: true });
      s.hello('many-endpoints-1');
      await s.waitFor('welcome');
      s.register(Array.from({ length: MAX_ENDPOINTS_PER_SESSION + 1 }, (_, i) => ({ port: 10_000 + i })));
      const e = await s.waitForError();
      expect(e.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
      expect(e.details).to.contain(`${MAX_ENDPOINTS_PER_SESSION + 1} endpoints`).and.contain('MAX_ENDPOINTS_PER_SESSION');
      expect(await listedInstances(weftd.adminUrl, REVIEWS)).to.deep.equal([]);
    });

    it(`refuses a subscription past ${MAX_SUBSCRIPTIONS_PER_SESSION} hosts, however it is batched`, async () => {
      const s = open();
      s.hello('many-hosts-1', { service: 'productpage' });
      await s.waitFor('config');
      for (let b = 0; b < 5; b++) s.send({ subscribe: { hosts: Array.from({ length: 2000 }, (_, i) => `svc-${b}-${i}`) } });
      await waitUntil(() => s.received.filter((m) => m.kind === 'endpoints').length === 5, 5000, 'five answers');
      expect(s.error).to.equal(undefined);
      s.send({ subscribe: { hosts: ['svc-5-0', 'svc-0-0'] } });
      const e = await s.waitForError();
      expect(e.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
      expect(e.details).to.contain(`subscribe to ${MAX_SUBSCRIPTIONS_PER_SESSION + 1} hosts`).and.contain('MAX_SUBSCRIPTIONS_PER_SESSION');
    });

    it('refuses oversized and reserved Hello fields with INVALID_ARGUMENT naming the field', async () => {
      const cases: [Parameters<RawSession['hello']>, string][] = [
        [['i'.repeat(1024 * 1024)], 'hello.workload.instanceId has 1048576 characters'],
        [['ok-1', { labels: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'v'])) }], 'hello.workload.labels has 10000 labels'],
        [['ok-2', { labels: { constructor: 'x' } }], '"constructor" is reserved'],
        [['ok-3', { labels: { version: 'v1\n' } }], 'is not a label value'],
        [['ok-4', { workloadName: 'w'.repeat(300) }], 'hello.workload.workloadName has 300 characters'],
        [['ok-5', { serviceAccount: 'sa\u001b[31m' }], 'hello.workload.serviceAccount "sa\\u001b[31m"'],
      ];
      for (const [args, expected] of cases) {
        const s = open();
        s.hello(...args);
        const e = await s.waitForError();
        expect(e.code, expected).to.equal(grpc.status.INVALID_ARGUMENT);
        expect(e.details).to.contain(expected);
        expect(e.details.length).to.be.lessThan(500);
      }
      expect(await listedInstances(weftd.adminUrl, REVIEWS)).to.deep.equal([]);
    });

    it('logs a flood of NACKs from one session as a few lines and one summary', async () => {
      const s = open();
      s.hello('nacker-1', { service: 'ratings' });
      const config = await s.waitFor('config');
      for (let i = 0; i < 2000; i++) s.send({ ack: { type: 'config', version: config.config.version, nonce: config.config.nonce, error: `cannot apply, attempt ${i}` } });
      s.send({ subscribe: { hosts: ['reviews'] } });
      await s.waitFor('endpoints'); // every NACK before it has been read
      s.close();
      await waitUntil(() => weftd.output().includes('more distinct NACKs not logged'), 3000, 'the summary line at the session end');
      const lines = weftd.output().split('\n').filter((l) => l.includes('nacker-1'));
      expect(lines.filter((l) => l.includes('NACKed config') && !l.includes('not logged'))).to.have.length(5);
      expect(lines.filter((l) => l.includes('1995 more distinct NACKs not logged'))).to.have.length(1);
      expect(lines.length).to.equal(6);
    });
  });

  describe('one live session per instance id', () => {
    let proxy: BlackholeProxy | undefined;
    afterEach(async () => {
      await proxy?.close();
      proxy = undefined;
    });

    it('refuses a second Hello with a live instance id, and the live workload stays registered', async () => {
      weftd = await startWeftd();
      const victim = open({ proven: true });
      victim.hello('victim-1', { labels: { version: 'v1' } });
      victim.register([{ port: 7001 }]);
      await waitUntil(async () => (await listedInstances(weftd.adminUrl, REVIEWS)).length === 1, 3000, 'the victim to be listed');

      const impostor = open({ proven: true });
      impostor.hello('victim-1', { labels: { version: 'evil' } });
      impostor.register([{ port: 6666 }]);
      const e = await impostor.waitForError();
      expect(e.code).to.equal(grpc.status.ALREADY_EXISTS);
      expect(e.details).to.contain('"victim-1" is registered by a live session').and.contain('never hands a live registration to another session');
      impostor.close();
      await sleep(1500); // past the 1 s endpoint grace: the impostor's end must not remove the victim
      const listed = await listedInstances(weftd.adminUrl, REVIEWS);
      expect(listed.map((i) => [i.instanceId, i.port, i.labels.version, i.connected])).to.deep.equal([['victim-1', 7001, 'v1', true]]);
      expect(victim.error).to.equal(undefined);
    });

    it("lets the SDK back in by itself once weftd has seen its old stream end, keeping its endpoints", async () => {
      // weftd notices a silent peer after 2-4 s (keepalive 2s); the SDK after 1-1.5 s (keepalive 500 ms),
      // so its first reconnects find the old session still live and are refused.
      weftd = await startWeftd({ args: ['--keepalive', '2s', '--endpoint-grace', '10s'] });
      proxy = await startBlackholeProxy(weftd.grpcAddress);
      const token = await createToken(weftd.grpcAddress, 'bookinfo');
      const mesh = await createMesh({ service: 'reviews', namespace: 'bookinfo', token, controlPlane: proxy.address, keepaliveMs: 500, shutdownSignals: [] });
      meshes.push(mesh);
      await mesh.serve((_req, res) => res.end('ok'), { port: 0, host: '127.0.0.1' });
      await waitUntil(async () => (await listedInstances(weftd.adminUrl, REVIEWS)).length === 1, 3000, 'the workload to be listed');
      const [before] = await listedInstances(weftd.adminUrl, REVIEWS);
      const firstSession = mesh.status().sessionId;
      const refusals: string[] = [];
      mesh.on('connectFailed', (f: { message: string }) => refusals.push(f.message));
      mesh.on('error', () => undefined);

      proxy.blackhole();
      await waitUntil(() => mesh.status().connected && mesh.status().sessionId !== firstSession, 20_000, 'the SDK to be welcomed on a new session');
      expect(refusals.some((m) => m.includes('ALREADY_EXISTS') && m.includes('registered by a live session')), refusals.join('\n')).to.equal(true);
      await waitUntil(async () => (await listedInstances(weftd.adminUrl, REVIEWS)).some((i) => i.connected), 3000, 'the workload to be connected again');
      const after = await listedInstances(weftd.adminUrl, REVIEWS);
      expect(after.map((i) => [i.instanceId, i.port])).to.deep.equal([[before!.instanceId, before!.port]]);
    });
  });

  describe('views larger than 4 MiB', () => {
    /** `count` sessions of `service`, each registering the most endpoints a session may. */
    async function registerMany(service: string, count: number): Promise<void> {
      const all = Array.from({ length: count }, (_, k) => {
        const s = open({ proven: true });
        s.hello(`${service}-bulk-${k}`, { service, labels: BULKY_LABELS });
        s.register(Array.from({ length: MAX_ENDPOINTS_PER_SESSION }, (_, i) => ({ port: 20_000 + i, address: `10.0.${k}.1` })));
        return s;
      });
      await Promise.all(all.map((s) => s.waitFor('welcome')));
    }

    it('reach the SDK: one host in parts it reassembles, several hosts in parts an older client reads', async () => {
      weftd = await startWeftd();
      await registerMany('reviews', 8);
      await registerMany('ratings', 4);
      await registerMany('details', 4);
      await waitUntil(async () => (await listedInstances(weftd.adminUrl, REVIEWS)).length === 8 * MAX_ENDPOINTS_PER_SESSION, 10_000, 'all reviews endpoints to be registered');

      // The SDK: one host of about 5 MiB, sent in parts within that host.
      const mesh = await createMesh({ service: 'productpage', namespace: 'bookinfo', controlPlane: weftd.grpcAddress, caFile: caFileOf(weftd.grpcAddress), subscribe: ['reviews'], shutdownSignals: [] });
      meshes.push(mesh);
      expect(mesh.status().hosts[REVIEWS]).to.equal(8 * MAX_ENDPOINTS_PER_SESSION);

      // A client without the parts feature and gRPC's default 4 MiB receive limit: two hosts of about
      // 2.5 MiB each come as two updates, each host whole.
      const old = open({ receiveLimit: 4 * MiB });
      old.hello('old-client-1', { service: 'productpage' });
      old.send({ subscribe: { hosts: ['ratings', 'details'] } });
      await waitUntil(() => old.received.filter((m) => m.kind === 'endpoints').length >= 2 || old.error !== undefined, 10_000, 'two endpoint updates');
      expect(old.error, old.error?.message).to.equal(undefined);
      const lists = old.received.flatMap((m) => (m.kind === 'endpoints' ? m.endpoints.hosts : []));
      expect(lists.map((h) => [h.host, h.instances.length]).sort()).to.deep.equal([[DETAILS, 4 * MAX_ENDPOINTS_PER_SESSION], [RATINGS, 4 * MAX_ENDPOINTS_PER_SESSION]]);
    });
  });
});
