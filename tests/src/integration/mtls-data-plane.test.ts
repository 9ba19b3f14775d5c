// mTLS between workloads end to end: a real weftd with its CA, join tokens from weftctl, meshes with
// real certificates calling each other through mesh.request. The server sees the caller's identity
// (mesh.peer), PERMISSIVE serves plaintext and mTLS callers on one port, a client certificate from
// another CA is refused, a server whose certificate is not the registered identity is refused by the
// client, and AuthorizationPolicy principals now match.
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { CertificateAuthority, createWorkloadKey } from '@weft/ca';
import { createMesh, isWeftError, type Mesh } from '@weft/sdk';
import { expect } from 'chai';
import { joinToken, startWeftd, type WeftdHandle } from '../support/weftd.js';
import { applyYaml, waitFor } from './sdk-fixtures.js';
import { RawSession } from './session-fixtures.js';

const NS = 'shop';

const token = (weftd: WeftdHandle, serviceAccount: string): Promise<string> => joinToken(weftd, NS, serviceAccount);

/** Answers with the caller's principal as the server saw it ('plaintext' without one). */
function whoCalls(m: Mesh): http.RequestListener {
  return (req, res) => res.end(m.peer(req)?.principal ?? 'plaintext');
}

export async function failureOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

describe('mTLS between workloads (auto-mTLS)', function () {
  this.timeout(30000);
  let weftd: WeftdHandle;
  const meshes: Mesh[] = [];
  const cleanups: Array<() => unknown> = [];
  const mesh = async (service: string, serviceAccount: string | null, extra: Record<string, unknown> = {}): Promise<Mesh> => {
    const tok = serviceAccount ? await token(weftd, serviceAccount) : undefined;
    const m = await createMesh({
      service, namespace: NS, controlPlane: weftd.grpcAddress, shutdownSignals: [], drainTimeoutMs: 300, initialTimeoutMs: 8000,
      // Without a service account: no token, no identity; it trusts weftd by its ca.pem and calls in plaintext.
      ...(serviceAccount ? { serviceAccount, token: tok } : { caFile: weftd.caFile }), ...extra,
    });
    meshes.push(m);
    return m;
  };
  const body = async (m: Mesh, url: string): Promise<{ status: number; text: string }> => {
    const r = await m.request(url);
    return { status: r.statusCode, text: await r.body.text() };
  };

  beforeEach(async () => {
    weftd = await startWeftd();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await Promise.all(meshes.splice(0).map((m) => m.close()));
    await weftd.stop();
  });

  it('two meshes with tokens talk mTLS: the server sees the caller principal through mesh.peer', async () => {
    const server = await mesh('cart', 'cart-sa');
    await server.serve(whoCalls(server));
    const caller = await mesh('web', 'web-sa', { subscribe: ['cart'] });
    const r = await body(caller, 'http://cart/');
    expect(r).to.deep.equal({ status: 200, text: `cluster.local/ns/${NS}/sa/web-sa` });
  });

  it('PERMISSIVE (the default) serves plaintext and mTLS callers on one port', async () => {
    const server = await mesh('cart', 'cart-sa');
    const s = await server.serve(whoCalls(server));
    const secure = await mesh('web', 'web-sa', { subscribe: ['cart'] });
    const plain = await mesh('legacy', null, { subscribe: ['cart'] });
    for (let i = 0; i < 3; i++) {
      expect((await body(secure, 'http://cart/')).text).to.equal(`cluster.local/ns/${NS}/sa/web-sa`);
      expect((await body(plain, 'http://cart/')).text).to.equal('plaintext');
    }
    // A large plaintext body arrives whole through the sniffer (its first chunk is read, then put back).
    const port = (s.address() as AddressInfo).port;
    const big = 'x'.repeat(1 << 20);
    const echoed = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(big);
    });
    expect(echoed).to.equal(200);
  });

  it('refuses a client certificate from a foreign CA, and a TLS client without one', async () => {
    const server = await mesh('cart', 'cart-sa');
    const s = await server.serve(whoCalls(server));
    const refusals: string[] = [];
    server.on('inboundRefused', (r: { reason: string }) => refusals.push(r.reason));
    const port = (s.address() as AddressInfo).port;
    const foreign = CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
    const key = createWorkloadKey();
    const cert = foreign.signCsr(key.csrPem, `spiffe://cluster.local/ns/${NS}/sa/web-sa`);
    const ca = server.identity!.tls()!.bundlePem;
    const attempt = (options: https.RequestOptions) =>
      new Promise<string>((resolve) => {
        const req = https.request({ host: '127.0.0.1', port, path: '/', ca, checkServerIdentity: () => undefined, agent: false, ...options }, (res) => {
          res.resume();
          resolve(`status ${res.statusCode}`);
        });
        req.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
        req.end();
      });
    expect(await attempt({ key: key.privateKeyPem, cert: cert.chainPem })).to.match(/^error /);
    expect(await attempt({})).to.match(/^error /);
    await waitFor('two refusals', () => refusals.length >= 2);
    expect(refusals).to.deep.equal(['BAD_CLIENT_CERTIFICATE', 'BAD_CLIENT_CERTIFICATE']);
    // The mesh's own certificate still gets in.
    const own = server.identity!.tls()!;
    expect(await attempt({ key: own.keyPem, cert: own.chainPem })).to.equal('status 200');
  });

  it('refuses a server whose certificate is not the identity registered for the endpoint (impersonation)', async () => {
    // A workload enrolled as evil-sa serves TLS with its real mesh certificate; a session that proved
    // cart-sa (a client certificate of the mesh CA) registers that endpoint for cart: weftd cannot see
    // who listens behind an address, the caller checks it at the TLS handshake.
    const evil = await mesh('evil', 'evil-sa');
    const material = evil.identity!.tls()!;
    const fake = tls.createServer({ key: material.keyPem, cert: material.chainPem, ca: material.bundlePem, requestCert: true, rejectUnauthorized: false }, (s) => {
      s.end('HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\nstolen');
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => fake.close(r)));
    const session = new RawSession(weftd.grpcAddress, { ownConnection: true, identity: { namespace: NS, serviceAccount: 'cart-sa' } });
    cleanups.push(() => session.close());
    session.hello('cart-impostor', { service: 'cart', namespace: NS, serviceAccount: 'cart-sa' });
    await session.waitFor('welcome');
    session.send({ register: { endpoints: [{ address: '127.0.0.1', port: (fake.address() as AddressInfo).port, protocol: 'http', servicePort: 0, mtls: true }] } });
    const caller = await mesh('web', 'web-sa', { subscribe: ['cart'] });
    const reported: Error[] = [];
    caller.on('error', (e: Error) => reported.push(e));
    await waitFor('the impostor endpoint', () => (caller.status().hosts[`cart.${NS}.svc.cluster.local`] ?? 0) > 0);
    const e = await failureOf(caller.request('http://cart/'));
    expect(isWeftError(e) && e.code, e.message).to.equal('UPSTREAM_CONNECT_FAILURE');
    expect(e.message).to.include(`spiffe://cluster.local/ns/${NS}/sa/evil-sa`).and.include(`spiffe://cluster.local/ns/${NS}/sa/cart-sa`);
    expect(reported.map((r) => r.message).join('\n')).to.include('evil-sa');
  });

  it('AuthorizationPolicy principals allow the named caller and deny the others', async () => {
    const server = await mesh('cart', 'cart-sa');
    await server.serve(whoCalls(server));
    await applyYaml(weftd.adminUrl, `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: only-web, namespace: ${NS} }
spec:
  selector: { matchLabels: { app: cart } }
  action: ALLOW
  rules:
  - from:
    - source: { principals: ["cluster.local/ns/${NS}/sa/web-sa"] }
`);
    const web = await mesh('web', 'web-sa', { subscribe: ['cart'] });
    const other = await mesh('other', 'other-sa', { subscribe: ['cart'] });
    const plain = await mesh('legacy', null, { subscribe: ['cart'] });
    await waitFor('the policy in force', async () => (await body(other, 'http://cart/')).status === 403);
    expect(await body(web, 'http://cart/')).to.deep.equal({ status: 200, text: `cluster.local/ns/${NS}/sa/web-sa` });
    expect(await body(other, 'http://cart/')).to.deep.equal({ status: 403, text: 'RBAC: access denied' });
    expect(await body(plain, 'http://cart/')).to.deep.equal({ status: 403, text: 'RBAC: access denied' });
  });

  it('DestinationRule tls.mode DISABLE sends plaintext, per subset too; MUTUAL without its files is refused with their paths', async () => {
    const server = await mesh('cart', 'cart-sa');
    await server.serve(whoCalls(server));
    const caller = await mesh('web', 'web-sa', { subscribe: ['cart'] });
    expect((await body(caller, 'http://cart/')).text).to.equal(`cluster.local/ns/${NS}/sa/web-sa`);
    await applyYaml(weftd.adminUrl, `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: cart, namespace: ${NS} }
spec:
  host: cart
  trafficPolicy: { tls: { mode: DISABLE } }
  subsets:
  - name: secure
    labels: { app: cart }
    trafficPolicy: { tls: { mode: ISTIO_MUTUAL } }
`);
    await waitFor('plaintext by the DestinationRule', async () => (await body(caller, 'http://cart/')).text === 'plaintext');
    await applyYaml(weftd.adminUrl, `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: cart, namespace: ${NS} }
spec:
  hosts: [cart]
  http:
  - route:
    - destination: { host: cart, subset: secure }
`);
    await waitFor('mTLS by the subset', async () => (await body(caller, 'http://cart/')).text === `cluster.local/ns/${NS}/sa/web-sa`);
    // SIMPLE and MUTUAL originate TLS with files (sdk-fetch-egress-tls.test.ts); MUTUAL without them is refused.
    const refused = await applyYaml(weftd.adminUrl, `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: ext, namespace: ${NS} }\nspec:\n  host: ext\n  trafficPolicy: { tls: { mode: MUTUAL } }\n`).then(() => '', (e: Error) => e.message);
    expect(refused).to.contain('(400)').and.contain('spec.trafficPolicy.tls.clientCertificate').and.contain('is required with mode MUTUAL').and.contain('spec.trafficPolicy.tls.privateKey');
  });

  it('a connection that never sends its first byte does not hold up close(), and one that half-closes is let go', async () => {
    const server = await mesh('cart', 'cart-sa');
    const s = await server.serve(whoCalls(server));
    const port = (s.address() as AddressInfo).port;
    const halfClosed = net.connect(port, '127.0.0.1');
    const halfClosedGone = new Promise<void>((r) => halfClosed.once('close', () => r()));
    halfClosed.on('error', () => undefined);
    halfClosed.once('connect', () => halfClosed.end());
    // Closed by the server at once, not after the 10 s first-byte timeout.
    const within = (p: Promise<unknown>, what: string) => {
      let t: NodeJS.Timeout | undefined;
      return Promise.race([p.then(() => 'done'), new Promise<string>((r) => (t = setTimeout(() => r(`${what} still waiting after 5 s`), 5000)))]).finally(() => clearTimeout(t));
    };
    expect(await within(halfClosedGone, 'the half-closed connection')).to.equal('done');
    const silent = net.connect(port, '127.0.0.1');
    silent.on('error', () => undefined);
    const silentGone = new Promise<void>((r) => silent.once('close', () => r()));
    await new Promise<void>((r) => silent.once('connect', () => r()));
    expect(await within(server.close(), 'close()')).to.equal('done');
    await silentGone;
  });
});
