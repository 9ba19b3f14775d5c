// Workload enrolment end to end: a real weftd with its CA, join tokens made with weftctl, meshes that
// get real certificates with them, renew them, and are refused with a clear reason when they may not;
// across a weftd restart a workload proves itself by its certificate, not its token.
// (How the SDK trusts weftd before it sends anything: sdk-weftd-trust.test.ts.)
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMesh, isWeftErrorCode, type Mesh } from '@weft/sdk';
import { expect } from 'chai';
import { adminFetch, joinToken, startWeftd, WEFTCTL_BIN, weftctlTarget, type WeftdHandle } from '../support/weftd.js';
import { restartWeftdOnSamePorts, waitFor, type RestartedWeftd } from './sdk-fixtures.js';

const NS = 'shop';

function weftctl(server: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [WEFTCTL_BIN, ...weftctlTarget(server), ...args], { timeout: 15000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function refusal(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected createMesh to be refused');
}

const token = (weftd: WeftdHandle, serviceAccount: string, ttl = '1h'): Promise<string> => joinToken(weftd, NS, serviceAccount, ttl);

describe('identity: enrolment with join tokens', function () {
  this.timeout(30000);
  let weftd: WeftdHandle;
  let restarted: RestartedWeftd | undefined;
  const meshes: Mesh[] = [];
  const mesh = async (serviceAccount: string, tok: string, extra: Record<string, unknown> = {}) => {
    const m = await createMesh({ service: 'cart', namespace: NS, serviceAccount, controlPlane: weftd.grpcAddress, token: tok, shutdownSignals: [], drainTimeoutMs: 500, initialTimeoutMs: 8000, ...extra });
    meshes.push(m);
    return m;
  };

  beforeEach(async () => {
    restarted = undefined;
    weftd = await startWeftd({ args: ['--cert-ttl', '4s'] });
  });
  afterEach(async () => {
    await Promise.all(meshes.splice(0).map((m) => m.close()));
    await restarted?.stop();
    await weftd.stop();
  });

  it('gives a workload with a token its SPIFFE identity before createMesh resolves, signed by the bundle, and renews it before expiry', async () => {
    const tok = await token(weftd, 'cart-sa');
    expect(tok).to.match(/^weft1\.[0-9a-f]{16}\.\S{43}\.[0-9a-f]{64}$/); // alone on stdout: WEFT_TOKEN=$(weftctl token create ...)
    const m = await mesh('cart-sa', tok);
    const first = m.status().identity!;
    expect(first.spiffeId).to.equal(`spiffe://cluster.local/ns/${NS}/sa/cart-sa`);
    const creds = m.identity!.credentials()!;
    const leaf = new X509Certificate(creds.chainPem);
    const root = new X509Certificate(creds.bundlePem);
    expect(leaf.verify(root.publicKey)).to.equal(true);
    expect(leaf.subjectAltName).to.include(first.spiffeId);
    expect(leaf.checkPrivateKey((await import('node:crypto')).createPrivateKey(creds.keyPem))).to.equal(true);
    // --cert-ttl 4s: renewed at about half, before the first one expires.
    await waitFor('a renewed certificate', () => m.status().identity!.expiresAt !== first.expiresAt, 6000);
    expect(Date.parse(m.status().identity!.expiresAt)).to.be.greaterThan(Date.parse(first.expiresAt));
    expect(Date.now()).to.be.lessThan(Date.parse(first.expiresAt) + 1000);
  });

  it("without a token (trusting weftd by its ca.pem) the mesh has no identity, calls others, and mesh.serve is refused with INVALID_ARGUMENT", async () => {
    const served = await mesh('cart-sa', await token(weftd, 'cart-sa'));
    await served.serve((_req, res) => res.end('cart'), { port: 0, host: '127.0.0.1' });
    const m = await createMesh({ service: 'web', namespace: NS, controlPlane: weftd.grpcAddress, caFile: weftd.caFile, shutdownSignals: [], drainTimeoutMs: 500 });
    meshes.push(m);
    expect(m.status().identity).to.equal(null);
    expect(await (await m.request('http://cart/')).body.text()).to.equal('cart');
    const e = await refusal(m.serve((_req, res) => res.end('web'), { port: 0, host: '127.0.0.1' }));
    expect(isWeftErrorCode(e, 'INVALID_ARGUMENT'), String(e)).to.equal(true);
    expect(e.message).to.equal(
      `mesh.serve registers this workload's endpoints, which needs its identity: create the mesh with a join token for namespace ${NS}, service account default ` +
        "(options.token or WEFT_TOKEN, from 'weftctl token create'); a mesh without one can only call others",
    );
    // weftd lists the tokenless session's service (it said hello), with no instance to call.
    const { services } = (await (await adminFetch(`${weftd.adminUrl}/v1/services`)).json()) as { services: { host: string; instances: unknown[] }[] };
    expect(Object.fromEntries(services.map((s) => [s.host, s.instances.length]))).to.deep.equal({ [`cart.${NS}.svc.cluster.local`]: 1, [`web.${NS}.svc.cluster.local`]: 0 });
  });

  it('refuses a token for another service account (PERMISSION_DENIED naming both identities)', async () => {
    const tok = await token(weftd, 'cart-sa');
    expect((await refusal(mesh('payments-sa', tok))).message).to.match(/PERMISSION_DENIED/).and.match(/cart-sa/).and.match(/payments-sa/);
  });

  it('refuses a revoked token, and weftctl token list shows it revoked', async () => {
    const tok = await token(weftd, 'cart-sa');
    const id = tok.split('.')[1]!;
    expect((await weftctl(weftd.adminUrl, 'token', 'revoke', id)).code).to.equal(0);
    const list = await weftctl(weftd.adminUrl, 'token', 'list');
    expect(list.stdout).to.match(new RegExp(`${id}\\s+spiffe://cluster.local/ns/${NS}/sa/cart-sa\\s+\\S+\\s+revoked`));
    expect((await refusal(mesh('cart-sa', tok))).message).to.match(/was revoked/);
  });

  it('refuses an expired token and an unknown one', async () => {
    const tok = await token(weftd, 'cart-sa', '1s');
    await new Promise((r) => setTimeout(r, 1100));
    expect((await refusal(mesh('cart-sa', tok))).message).to.match(/expired at/);
    const unknown = tok.replace(/^weft1\.[0-9a-f]{16}/, 'weft1.0123456789abcdef');
    expect((await refusal(mesh('cart-sa', unknown))).message).to.match(/unknown to this weftd/);
  });

  it("refuses a weftd whose CA does not match the token's hash, without sending the token", async () => {
    const tok = await token(weftd, 'cart-sa');
    const other = tok.replace(/[0-9a-f]{64}$/, '0'.repeat(64));
    const e = await refusal(mesh('cart-sa', other));
    expect(e.message).to.match(new RegExp(`^${weftd.grpcAddress} is not trusted as weftd: its CA does not match the join token's CA hash \\(0000000000000000\\.\\.\\.\\)`));
    expect(e.message).to.include('nothing was sent to it');
    expect(weftd.output()).not.to.match(/certificate refused|session/); // weftd never saw a request
  });

  // With certificates of the default lifetime: on a loaded machine a restart may outlast the 4 s ones
  // above, and a certificate that expired while weftd was away proves nothing on reconnect.
  describe('across a weftd restart', () => {
    beforeEach(async () => {
      await weftd.stop();
      weftd = await startWeftd();
    });

    it('keeps its root across a restart: the workload keeps its identity and a token made before still enrols', async () => {
      const tok = await token(weftd, 'cart-sa');
      const roots = () => (JSON.parse(readFileSync(join(weftd.dataDir, 'ca', 'trust-bundle.json'), 'utf8')) as { roots: { fingerprint: string }[] }).roots.map((r) => r.fingerprint);
      const rootsBefore = roots();
      const m = await mesh('cart-sa', tok);
      const before = m.status().identity!;
      await weftd.kill('SIGTERM');
      restarted = await restartWeftdOnSamePorts(weftd);
      await waitFor('reconnected', () => m.status().connected, 10000);
      expect(roots()).to.deep.equal(rootsBefore);
      expect(m.status().identity!.spiffeId).to.equal(before.spiffeId);
      expect(m.status().identity!.bundleVersion).to.equal(before.bundleVersion);
      const second = await mesh('cart-sa', tok);
      expect(second.status().identity!.spiffeId).to.equal(before.spiffeId);
    });

    it('a workload whose token was revoked since keeps serving across a weftd restart: its certificate proves it on reconnect', async () => {
      const tok = await token(weftd, 'cart-sa');
      const server = await mesh('cart-sa', tok);
      await server.serve((_req, res) => res.end('cart'), { port: 0, host: '127.0.0.1' });
      const id = tok.split('.')[1]!;
      expect((await weftctl(weftd.adminUrl, 'token', 'revoke', id)).code).to.equal(0);
      const caller = await createMesh({ service: 'web', namespace: NS, controlPlane: weftd.grpcAddress, caFile: weftd.caFile, shutdownSignals: [], drainTimeoutMs: 500, subscribe: ['cart'] });
      meshes.push(caller);
      expect(await (await caller.request('http://cart/')).body.text()).to.equal('cart');
      const identityBefore = server.status().identity!;

      await weftd.kill('SIGTERM');
      await waitFor('the workload to see weftd gone', () => !server.status().connected, 5000);
      expect(await (await caller.request('http://cart/')).body.text()).to.equal('cart'); // served meanwhile
      restarted = await restartWeftdOnSamePorts(weftd);
      await waitFor('the workload reconnected', () => server.status().connected, 10000);
      const cart = async () => {
        const { services } = (await (await adminFetch(`${weftd.adminUrl}/v1/services`)).json()) as { services: { host: string; instances: { connected: boolean }[] }[] };
        return services.find((s) => s.host === `cart.${NS}.svc.cluster.local`)?.instances.filter((i) => i.connected).length ?? 0;
      };
      // weftd's registry starts empty: the endpoint is there again only because the workload registered it.
      await waitFor('cart registered again with the restarted weftd', async () => (await cart()) === 1, 10000);
      expect(restarted.output()).not.to.match(/refused/);
      expect(server.status().identity!.spiffeId).to.equal(identityBefore.spiffeId);
      expect(await (await caller.request('http://cart/')).body.text()).to.equal('cart');
      // The token itself stays revoked: it enrols nothing new.
      expect((await refusal(mesh('cart-sa', tok))).message).to.match(/was revoked/);
    });
  });
});
