// Root rotation under continuous mTLS load (issue 8): `weftctl ca rotate` adds a new root to every
// workload's trust bundle, makes it sign, has every workload renew from it, and drops the old root
// once the last certificate it signed expired (--cert-ttl 4s keeps that within the test). No request
// may fail on the way, the server under STRICT (so a call cannot fall back to plaintext), and a weftd
// restart afterwards keeps the new root.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ControlPlaneClient } from '@weft/api';
import { createMesh, type Mesh } from '@weft/sdk';
import { expect } from 'chai';
import { applyYaml, restartWeftdOnSamePorts, waitFor } from './sdk-fixtures.js';
import { steadyLoad } from '../support/steady-load.js';
import { adminFetch, createToken, startWeftd, WEFTCTL_BIN, weftctlTarget, type WeftdHandle } from '../support/weftd.js';

const NS = 'shop';

interface CaView {
  bundleVersion: number;
  roots: Array<{ fingerprint: string; active: boolean; pending: boolean }>;
}

const caView = async (weftd: WeftdHandle): Promise<CaView> => (await (await adminFetch(`${weftd.adminUrl}/v1/ca`)).json()) as CaView;

function weftctl(weftd: WeftdHandle, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [WEFTCTL_BIN, ...weftctlTarget(weftd.adminUrl), ...args], { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** SHA-256 fingerprint (as @weft/ca writes it: lower-case hex) of the root a chain ends at. */
function rootOf(chainPem: string): string {
  const certs = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
  return new X509Certificate(certs[certs.length - 1]!).fingerprint256.replace(/:/g, '').toLowerCase();
}

describe('CA root rotation under continuous load', function () {
  this.timeout(90_000);
  let weftd: WeftdHandle;
  const meshes: Mesh[] = [];

  beforeEach(async () => {
    weftd = await startWeftd({ args: ['--cert-ttl', '4s', '--rotation-wait', '10s'] });
  });
  afterEach(async () => {
    await Promise.all(meshes.splice(0).map((m) => m.close()));
    await weftd.stop();
  });

  it('moves every workload to the new root and drops the old one, failing no request; a restart keeps the new root', async () => {
    const base = { namespace: NS, controlPlane: weftd.grpcAddress, shutdownSignals: [] as never[], drainTimeoutMs: 300, initialTimeoutMs: 8000 };
    const server = await createMesh({ ...base, service: 'cart', serviceAccount: 'cart-sa', token: await createToken(weftd.adminUrl, NS, 'cart-sa') });
    meshes.push(server);
    await server.serve((req, res) => res.end(server.peer(req)?.principal ?? 'plaintext'), { host: '127.0.0.1', port: 0 });
    const caller = await createMesh({ ...base, service: 'web', serviceAccount: 'web-sa', token: await createToken(weftd.adminUrl, NS, 'web-sa'), subscribe: ['cart'] });
    meshes.push(caller);
    await applyYaml(weftd.adminUrl, `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: strict, namespace: ${NS}}\nspec:\n  mtls: {mode: STRICT}\n`);
    const before = await caView(weftd);
    expect(before.roots).to.have.length(1);
    const oldRoot = before.roots[0]!.fingerprint;
    expect(rootOf(server.identity!.credentials()!.chainPem)).to.equal(oldRoot);

    let ok = 0;
    let failures: string[] = [];
    const load = steadyLoad(caller, 'http://cart/', `cluster.local/ns/${NS}/sa/web-sa`);
    try {
      await new Promise((r) => setTimeout(r, 500));
      const rotated = await weftctl(weftd, 'ca', 'rotate');
      expect(rotated.code, rotated.stderr).to.equal(0);
      expect(rotated.stdout).to.match(/signing/);
      const during = await caView(weftd);
      const newRoot = during.roots.find((r) => r.active)!.fingerprint;
      expect(newRoot).to.not.equal(oldRoot);
      expect(during.roots.map((r) => r.fingerprint)).to.include(oldRoot); // still trusted: its certificates are in use
      // Every workload renews from the new root at once.
      await waitFor('both workloads to hold certificates of the new root', () =>
        rootOf(server.identity!.credentials()!.chainPem) === newRoot && rootOf(caller.identity!.credentials()!.chainPem) === newRoot, 10_000);
      // The old root goes once its last certificate expired (at most --cert-ttl after the switch, plus the timer's second).
      await waitFor('the old root to leave the trust bundle', async () => (await caView(weftd)).roots.length === 1, 15_000);
      const after = await caView(weftd);
      expect(after.roots[0]!.fingerprint).to.equal(newRoot);
      await waitFor('the workloads to hold the final bundle', () =>
        server.status().identity?.bundleVersion === after.bundleVersion && caller.status().identity?.bundleVersion === after.bundleVersion, 5000);
      await new Promise((r) => setTimeout(r, 500)); // traffic on the final bundle alone
    } finally {
      ({ ok, failures } = await load.stop());
    }
    expect(failures, failures.slice(0, 3).join('\n')).to.deep.equal([]);
    expect(ok).to.be.greaterThan(100);

    // weftctl still trusts weftd (admin.cred was rewritten with the new root) and the new root survives a restart.
    const finalRoot = (await caView(weftd)).roots[0]!.fingerprint;
    await weftd.kill('SIGTERM');
    const again = await restartWeftdOnSamePorts(weftd);
    try {
      const status = await weftctl(weftd, 'ca', 'status');
      expect(status.code, status.stderr).to.equal(0);
      expect(status.stdout).to.contain(finalRoot.slice(0, 16));
      expect((await caView(weftd)).roots.map((r) => r.fingerprint)).to.deep.equal([finalRoot]);
    } finally {
      await again.stop();
    }
  });

  it('does not let the new root sign until every session holds it (or --rotation-wait passed)', async () => {
    await weftd.stop();
    weftd = await startWeftd({ args: ['--rotation-wait', '3s'] });
    // A session that says hello and then never ACKs anything: a workload whose event loop is stuck.
    const roots = readFileSync(weftd.caFile);
    const client = new ControlPlaneClient(weftd.grpcAddress, grpc.credentials.createSsl(roots, null, null, { checkServerIdentity: () => undefined }), { 'grpc.ssl_target_name_override': 'localhost' });
    const call = (client as unknown as { Session(): grpc.ClientDuplexStream<unknown, unknown> }).Session();
    const welcomed = new Promise<void>((resolve) => call.once('data', () => resolve()));
    call.on('error', () => undefined);
    call.write({ hello: { workload: { instanceId: 'stuck-1', service: 'stuck', namespace: NS, labels: {}, serviceAccount: 'default', workloadName: 'stuck' }, sdkVersion: 'test', resume: false } });
    try {
      await welcomed;
      const started = Date.now();
      const rotating = weftctl(weftd, 'ca', 'rotate');
      await waitFor('the new root to be in the bundle', async () => (await caView(weftd)).roots.length === 2, 2000);
      const waiting = await caView(weftd);
      expect(waiting.roots.find((r) => r.active)!.pending).to.equal(false);
      expect(waiting.roots.filter((r) => r.pending)).to.have.length(1); // trusted, not signing: the stuck session has not ACKed
      const done = await rotating;
      expect(done.code, done.stderr).to.equal(0);
      expect(Date.now() - started).to.be.at.least(2900);
      expect(weftd.output()).to.match(/1 session\(s\) did not ACK bundle version \d+ within 3000 ms \(stuck-1 \(stuck\.shop\)\)/);
      const after = await caView(weftd);
      expect(after.roots.filter((r) => r.pending)).to.have.length(0);
      // Without a laggard the same rotation is quick.
      const quickStart = Date.now();
      call.cancel();
      const again = await weftctl(weftd, 'ca', 'rotate');
      expect(again.code, again.stderr).to.equal(0);
      expect(Date.now() - quickStart).to.be.below(2900);
    } finally {
      call.cancel();
      client.close();
    }
  });

  it('weftctl ca status shows the signing root, and an unknown action is a usage error', async () => {
    const status = await weftctl(weftd, 'ca', 'status');
    expect(status.code, status.stderr).to.equal(0);
    expect(status.stdout).to.match(/trust domain cluster\.local/).and.match(/signing/);
    const bad = await weftctl(weftd, 'ca', 'spin');
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/ca needs one of status, rotate/);
  });
});
