// Endpoint registration is bound to a proven identity (issue 8), seen with raw gRPC clients of a real
// weftd over the session port's TLS. A session proves (namespace, service account) with a TLS client
// certificate of the mesh CA, or with a join token it enrolled on that connection; without a proof it
// may say hello, watch config and subscribe, but a `register` with endpoints ends it with
// PERMISSION_DENIED, and a Hello that claims another identity than its proof is refused. Each refusal
// is logged with its reason, leaves nothing in the registry, and a good session on the same weftd gets
// its answers throughout.
//
// Not here: a join token for another identity (and expired, revoked, unknown tokens) is refused at the
// certificate request, in identity-enrolment.test.ts ("refuses a token for another service account").
// A plaintext gRPC client of the TLS port: session-bad-input.test.ts.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { CertificateAuthority } from '@weft/ca';
import { adminFetch, createToken, startWeftd, type WeftdHandle } from '../support/weftd.js';
import {
  allListedInstances,
  expectHealthy,
  meshAuthorityOf,
  meshCertificate,
  RawSession,
  signClientCertificate,
  waitUntil,
  type ClientCertificate,
  type Identity,
  type RawSessionOptions,
} from './session-fixtures.js';

const NS = 'shop';
const CART: Identity = { namespace: NS, serviceAccount: 'cart-sa' };
const spiffe = (id: Identity) => `spiffe://cluster.local/ns/${id.namespace}/sa/${id.serviceAccount}`;
const NO_PROOF = 'registering endpoints needs a proven identity, and this session has none';

interface SessionRow {
  id: string;
  instanceId: string;
  peer: string;
  identity: string;
}

describe('session port: registration needs a proven identity', function () {
  this.timeout(30_000);
  let weftd: WeftdHandle;
  let seq = 0;
  const sessions: RawSession[] = [];
  /** A session that proves its identity and serves, and one that watches it: both must be served throughout. */
  let good: { server: RawSession; watcher: RawSession };

  const open = (opts: RawSessionOptions = {}) => {
    const s = new RawSession(weftd.grpcAddress, { ownConnection: true, ...opts });
    sessions.push(s);
    return s;
  };
  const sessionRows = async () => ((await (await adminFetch(`${weftd.adminUrl}/v1/sessions`)).json()) as { sessions: SessionRow[] }).sessions;
  const listed = async (instanceId: string) => (await allListedInstances(weftd.adminUrl)).filter((i) => i.instanceId === instanceId);

  /** Opens a session with `opts`, says hello as `id` (service cart) and registers one endpoint: the session's status, or 'registered' once it is listed. */
  async function tryRegister(id: Identity, opts: RawSessionOptions): Promise<{ instanceId: string; session: RawSession; error?: grpc.ServiceError }> {
    const n = ++seq;
    const instanceId = `cart-${n}`;
    const session = open(opts);
    session.hello(instanceId, { service: 'cart', ...id });
    await session.waitFor('welcome');
    session.register([{ port: 7000 + n }]);
    let error: grpc.ServiceError | undefined;
    await waitUntil(async () => !!(error = session.error) || (await listed(instanceId)).length > 0, 5000, `${instanceId} to be listed or refused`);
    return { instanceId, session, error };
  }

  before(async () => {
    weftd = await startWeftd();
    const server = new RawSession(weftd.grpcAddress, { ownConnection: true, identity: { namespace: NS, serviceAccount: 'web-sa' } });
    server.hello('web-1', { service: 'web' });
    server.register([{ port: 6001 }]);
    const watcher = new RawSession(weftd.grpcAddress, { ownConnection: true, identity: { namespace: NS, serviceAccount: 'watcher-sa' } });
    watcher.hello('watcher-1', { service: 'watcher' });
    watcher.send({ subscribe: { hosts: ['web'] } });
    good = { server, watcher };
    await watcher.waitFor('endpoints', (m) => m.endpoints.hosts.some((h) => h.instances.some((i) => i.instanceId === 'web-1')));
  });
  after(async () => {
    good?.server.close();
    good?.watcher.close();
    await weftd?.stop();
  });
  afterEach(async () => {
    for (const s of sessions.splice(0)) s.close();
    // The good sessions were never touched by whatever a test did, and are still answered.
    expect(good.server.error, good.server.error?.message).to.equal(undefined);
    expect(good.watcher.error, good.watcher.error?.message).to.equal(undefined);
    const before = good.watcher.received.length;
    good.watcher.send({ subscribe: { hosts: ['web'] } });
    await waitUntil(() => good.watcher.received.slice(before).some((m) => m.kind === 'endpoints' && m.endpoints.hosts.some((h) => h.instances.some((i) => i.instanceId === 'web-1'))), 3000, 'the watcher to be answered');
    await expectHealthy(weftd);
  });

  it('lets a session without a proof say hello, get config and subscribe, and refuses its register with PERMISSION_DENIED naming the missing identity', async () => {
    const applied = await adminFetch(`${weftd.adminUrl}/v1/apply`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web, namespace: ${NS}}\nspec: {host: web}\n`,
    });
    expect(applied.status, await applied.clone().text()).to.equal(200);
    const s = open(); // TLS, no client certificate, no token
    s.hello('anon-1', { service: 'cart', ...CART });
    await s.waitFor('welcome');
    const config = await s.waitFor('config');
    expect(config.config.resources.map((r) => `${r.kind}/${r.namespace}/${r.name}`)).to.include(`DestinationRule/${NS}/web`);
    s.send({ subscribe: { hosts: ['web'] } });
    const view = await s.waitFor('endpoints');
    expect(view.endpoints.hosts.flatMap((h) => h.instances.map((i) => i.instanceId))).to.deep.equal(['web-1']);
    expect((await sessionRows()).find((r) => r.instanceId === 'anon-1')?.identity).to.equal('');

    s.register([{ port: 7001 }]);
    const e = await s.waitForError();
    expect(e.code).to.equal(grpc.status.PERMISSION_DENIED);
    expect(e.details).to.contain(NO_PROOF).and.contain('service account cart-sa of namespace shop').and.contain('join token');
    await waitUntil(() => weftd.output().includes(`(cart.${NS}) from`), 3000, 'the refusal to be logged');
    expect(weftd.output()).to.match(new RegExp(`session \\S+ \\(cart\\.${NS}\\) from \\S+: refused: ${NO_PROOF}`));
    expect(await listed('anon-1')).to.deep.equal([]);
    expect((await sessionRows()).map((r) => r.instanceId)).to.not.include('anon-1');
    // A register without endpoints claims nothing, and is allowed.
    const empty = open();
    empty.hello('anon-2', { service: 'cart', ...CART });
    empty.register([]);
    empty.send({ subscribe: { hosts: ['web'] } });
    await empty.waitFor('endpoints');
    expect(empty.error).to.equal(undefined);
  });

  it('refuses a hello that claims another identity than the client certificate, naming both, and logs it', async () => {
    const cert = meshCertificate(weftd.grpcAddress, CART);
    for (const claimed of [{ namespace: NS, serviceAccount: 'payments-sa' }, { namespace: 'other', serviceAccount: 'cart-sa' }]) {
      const s = open({ clientCertificate: cert });
      s.hello(`claims-${claimed.namespace}-${claimed.serviceAccount}`, { service: 'cart', ...claimed });
      const e = await s.waitForError();
      expect(e.code).to.equal(grpc.status.PERMISSION_DENIED);
      expect(e.details).to.contain(`hello says namespace ${claimed.namespace}, service account ${claimed.serviceAccount}`).and.contain(`this connection proved ${spiffe(CART)}`);
      expect(s.received).to.deep.equal([]);
      await waitUntil(() => weftd.output().includes(`refused: hello says namespace ${claimed.namespace}, service account ${claimed.serviceAccount}, but this connection proved ${spiffe(CART)}`), 3000, 'the refusal to be logged');
    }
    // The same certificate with its own identity registers, and the session shows what it proved.
    const own = await tryRegister(CART, { clientCertificate: cert });
    expect(own.error?.message).to.equal(undefined);
    expect((await sessionRows()).find((r) => r.instanceId === own.instanceId)?.identity).to.equal(spiffe(CART));
    expect((await allListedInstances(weftd.adminUrl)).filter((i) => i.instanceId.startsWith('claims-'))).to.deep.equal([]);
  });

  it('takes no proof from a client certificate of a foreign CA, or from an expired one: register is refused', async () => {
    const foreign = signClientCertificate(CertificateAuthority.createRoot({ trustDomain: 'cluster.local' }), CART);
    const expired = signClientCertificate(meshAuthorityOf(weftd.grpcAddress), CART, { notAfter: new Date(Date.now() - 3600_000) });
    expect(new Date(new X509Certificate(expired.chainPem).validTo).getTime()).to.be.lessThan(Date.now() - 3500_000);
    const cases: [string, ClientCertificate][] = [['foreign CA', foreign], ['expired', expired]];
    for (const [what, cert] of cases) {
      const logged = weftd.output().length;
      const attempt = await tryRegister(CART, { clientCertificate: cert });
      expect(attempt.error?.code, `${what}: ${attempt.error?.message ?? 'registered'}`).to.equal(grpc.status.PERMISSION_DENIED);
      expect(attempt.error?.details, what).to.contain(NO_PROOF);
      await waitUntil(() => weftd.output().slice(logged).includes(`refused: ${NO_PROOF}`), 3000, `the ${what} refusal to be logged`);
      expect(await listed(attempt.instanceId), what).to.deep.equal([]);
    }
    // The control: a current certificate of the mesh CA for the same identity is a proof.
    const fresh = await tryRegister(CART, { clientCertificate: signClientCertificate(meshAuthorityOf(weftd.grpcAddress), CART) });
    expect(fresh.error?.message).to.equal(undefined);
  });

  it('lets a session that enrolled with a join token register, and a stream reopened on its connection too, without a new token', async () => {
    const token = await createToken(weftd.grpcAddress, CART.namespace, CART.serviceAccount);
    const first = open(); // no client certificate: the token is the proof
    first.hello('enrolled-1', { service: 'cart', ...CART });
    await first.waitFor('welcome');
    const cert = await first.enrol(token);
    expect(cert.spiffeId).to.equal(spiffe(CART));
    first.register([{ port: 7101 }]);
    await waitUntil(async () => (await listed('enrolled-1')).length === 1, 3000, 'the enrolled session to be listed');
    const firstRow = (await sessionRows()).find((r) => r.instanceId === 'enrolled-1')!;
    expect(firstRow.identity).to.equal(spiffe(CART));

    // The stream ends (as when weftd refused it something); the SDK opens a new one on its channel.
    const second = first.reopen();
    sessions.push(second);
    first.close();
    await waitUntil(async () => !(await sessionRows()).some((r) => r.id === firstRow.id), 3000, 'the first stream to end');
    second.hello('enrolled-1', { service: 'cart', ...CART });
    await second.waitFor('welcome');
    second.register([{ port: 7102 }]);
    await waitUntil(async () => !!second.error || (await listed('enrolled-1')).some((i) => i.port === 7102 && i.connected), 3000, 'the reopened stream to register');
    expect(second.error?.message).to.equal(undefined);
    const secondRow = (await sessionRows()).find((r) => r.instanceId === 'enrolled-1')!;
    expect(secondRow.peer, 'the same connection').to.equal(firstRow.peer);
    expect(secondRow.identity).to.equal(spiffe(CART));

    // What the connection proved is that identity only: another Hello on it is refused, naming it.
    const other = second.reopen();
    sessions.push(other);
    other.hello('enrolled-other-1', { service: 'payments', namespace: NS, serviceAccount: 'payments-sa' });
    const e = await other.waitForError();
    expect(e.code).to.equal(grpc.status.PERMISSION_DENIED);
    expect(e.details).to.contain('service account payments-sa').and.contain(spiffe(CART));
    // And only that connection: the same identity on another connection, with no proof, may not register.
    const elsewhere = await tryRegister(CART, {});
    expect(elsewhere.error?.code, elsewhere.error?.message ?? 'registered').to.equal(grpc.status.PERMISSION_DENIED);
    expect(second.error).to.equal(undefined);
  });
});
