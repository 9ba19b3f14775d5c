// Workload enrolment end to end: a real weftd with its CA, join tokens made with weftctl, meshes that
// get real certificates with them, renew them, and are refused with a clear reason when they may not.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMesh, type Mesh } from '@weft/sdk';
import { expect } from 'chai';
import { joinToken, startWeftd, WEFTCTL_BIN, type WeftdHandle } from '../support/weftd.js';
import { restartWeftdOnSamePorts, waitFor, type RestartedWeftd } from './sdk-fixtures.js';

const NS = 'shop';

function weftctl(server: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [WEFTCTL_BIN, '--server', server, ...args], { timeout: 15000 }, (err, stdout, stderr) => {
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

  it('without a token the mesh works as before and has no identity', async () => {
    const m = await createMesh({ service: 'cart', namespace: NS, controlPlane: weftd.grpcAddress, shutdownSignals: [], drainTimeoutMs: 500 });
    meshes.push(m);
    expect(m.status().identity).to.equal(null);
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
    expect((await refusal(mesh('cart-sa', other))).message).to.match(/does not match the join token's CA hash/);
    expect(weftd.output()).not.to.match(/certificate refused/); // weftd never saw a request
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
});
