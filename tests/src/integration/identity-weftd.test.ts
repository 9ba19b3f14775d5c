// weftd's CA from the outside: the operator's intermediate CA, startup errors that name the file, the
// token as `WEFT_TOKEN=$(weftctl token create ...)` in a shell, and renewal across a weftd restart.
import { execFile, execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { caHashOfCertificate, formatJoinToken } from '@weft/api';
import { startDaemon, type Daemon } from '@weft/registry';
import { createMesh, type Mesh } from '@weft/sdk';
import { expect } from 'chai';
import { startWeftd, WEFTCTL_BIN, WEFTD_BIN, weftctlTarget, type WeftdHandle } from '../support/weftd.js';
import { waitFor } from './sdk-fixtures.js';

const TESTS_DIR = fileURLToPath(new URL('../..', import.meta.url));

function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 20000, env, cwd: TESTS_DIR }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }));
  });
}

/** A corporate root and a mesh intermediate it signed, made with OpenSSL as an operator would. */
function operatorCa(dir: string): { certFile: string; keyFile: string; rootPem: string } {
  const sh = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  sh('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-days', '30', '-subj', '/O=Example Corp/CN=Corp Root');
  sh('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'mesh.key', '-out', 'mesh.csr', '-subj', '/O=Example Corp/CN=Mesh Intermediate');
  writeFileSync(join(dir, 'ext.cnf'), 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  sh('x509', '-req', '-in', 'mesh.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-out', 'mesh.pem', '-days', '20', '-extfile', 'ext.cnf');
  const rootPem = execFileSync('cat', [join(dir, 'root.pem')], { encoding: 'utf8' });
  writeFileSync(join(dir, 'mesh-chain.pem'), execFileSync('cat', [join(dir, 'mesh.pem'), join(dir, 'root.pem')], { encoding: 'utf8' }));
  return { certFile: join(dir, 'mesh-chain.pem'), keyFile: join(dir, 'mesh.key'), rootPem };
}

describe("identity: weftd's CA", function () {
  this.timeout(30000);
  let dir: string;
  let weftd: WeftdHandle | undefined;
  const meshes: Mesh[] = [];
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'weft-identity-'))));
  afterEach(async () => {
    await Promise.all(meshes.splice(0).map((m) => m.close()));
    await weftd?.stop();
    weftd = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it("signs with the operator's intermediate: workloads get the chain, the token hashes the corporate root", async () => {
    const ca = operatorCa(dir);
    weftd = await startWeftd({ args: ['--ca-cert', ca.certFile, '--ca-key', ca.keyFile, '--trust-domain', 'example.org'] });
    expect(weftd.output()).to.contain(`mesh CA: operator CA ${ca.certFile}, trust domain example.org`);
    const created = await run(process.execPath, [WEFTCTL_BIN, ...weftctlTarget(weftd.adminUrl), 'token', 'create', '-n', 'shop', '--service-account', 'cart']);
    expect(created.code, created.out).to.equal(0);
    const token = created.out.trim();
    expect(token.endsWith(caHashOfCertificate(ca.rootPem))).to.equal(true);
    const m = await createMesh({ service: 'cart', namespace: 'shop', serviceAccount: 'cart', controlPlane: weftd.grpcAddress, token, shutdownSignals: [], drainTimeoutMs: 500 });
    meshes.push(m);
    expect(m.status().identity?.spiffeId).to.equal('spiffe://example.org/ns/shop/sa/cart');
    const chain = m.identity!.credentials()!.chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
    expect(chain).to.have.length.of.at.least(2);
    expect(new X509Certificate(chain[1]!).subject).to.contain('Mesh Intermediate');
  });

  it('names the file when the CA cannot be loaded, and wants --ca-cert and --ca-key together', async () => {
    const missing = join(dir, 'nope.pem');
    const failed = await run(process.execPath, [WEFTD_BIN, '--data-dir', join(dir, 'data'), '--port', '0', '--admin-port', '0', '--ca-cert', missing, '--ca-key', missing]);
    expect(failed.code).to.equal(1);
    expect(failed.out).to.contain(`--ca-cert ${missing}: cannot read it (ENOENT)`);
    const half = await run(process.execPath, [WEFTD_BIN, '--data-dir', join(dir, 'data'), '--port', '0', '--admin-port', '0', '--ca-cert', missing]);
    expect(half.code).to.equal(2);
    expect(half.out).to.contain('--ca-cert and --ca-key go together');
  });

  it('enrols a workload from a shell with WEFT_TOKEN=$(weftctl token create ...)', async () => {
    weftd = await startWeftd();
    const script =
      `WEFT_TOKEN=$("${process.execPath}" "${WEFTCTL_BIN}" ${weftctlTarget(weftd.adminUrl).map((a) => `"${a}"`).join(' ')} token create --namespace shop --service-account cart) ` +
      `"${process.execPath}" --input-type=module -e "import { createMesh } from '@weft/sdk'; ` +
      `const m = await createMesh({ service: 'cart', namespace: 'shop', serviceAccount: 'cart', controlPlane: '${weftd.grpcAddress}', shutdownSignals: [] }); ` +
      `console.log(m.status().identity.spiffeId); await m.close();"`;
    const out = await run('/bin/sh', ['-c', script]);
    expect(out.code, out.out).to.equal(0);
    expect(out.out.trim()).to.equal('spiffe://cluster.local/ns/shop/sa/cart');
  });

  it('renews across a weftd restart: same root, same identity, a later certificate', async () => {
    const opts = { dataDir: join(dir, 'data'), host: '127.0.0.1', grpcPort: 0, adminPort: 0, endpointGraceMs: 200, keepaliveMs: 1000, certTtlSeconds: 4, log: () => undefined };
    let daemon: Daemon = await startDaemon(opts);
    try {
      const { record, secret } = await daemon.tokens.create({ namespace: 'shop', serviceAccount: 'cart' }, 3600_000);
      const token = formatJoinToken({ id: record.id, secret, caHash: daemon.ca.caHash() });
      const m = await createMesh({ service: 'cart', namespace: 'shop', serviceAccount: 'cart', controlPlane: `127.0.0.1:${daemon.grpcPort}`, token, shutdownSignals: [], drainTimeoutMs: 500 });
      meshes.push(m);
      const first = m.status().identity!;
      const rootBefore = daemon.ca.bundle.active.certificate.fingerprint;
      await daemon.close();
      daemon = await startDaemon({ ...opts, grpcPort: daemon.grpcPort });
      expect(daemon.ca.bundle.active.certificate.fingerprint).to.equal(rootBefore);
      await waitFor('a certificate renewed by the restarted weftd', () => Date.parse(m.status().identity!.expiresAt) > Date.parse(first.expiresAt), 8000);
      expect(m.status().identity!.spiffeId).to.equal(first.spiffeId);
    } finally {
      await daemon.close();
    }
  });
});
