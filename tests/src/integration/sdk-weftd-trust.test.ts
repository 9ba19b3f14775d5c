// How a workload trusts weftd, checked at the TLS step of the session port before anything is sent:
// a join token names weftd's root by its hash, a caFile (or WEFT_CA_FILE) holds weftd's roots, and the
// server must be weftd's identity. Against two real weftds (two CAs) and a TLS server that holds a
// real mesh workload certificate but is not weftd, createMesh fails at once and says which of those
// failed; weftd logs nothing of a token that never reached it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { createMesh, isWeftErrorCode, type Mesh, type MeshOptions } from '@weft/sdk';
import { expect } from 'chai';
import { adminFetch, createToken, startWeftd, type WeftdHandle } from '../support/weftd.js';
import { NS } from './sdk-fixtures.js';

describe('SDK: trusting weftd at the TLS step', function () {
  this.timeout(30_000);
  let weftd: WeftdHandle;
  let other: WeftdHandle;
  let dir: string;
  const meshes: Mesh[] = [];

  before(async () => {
    [weftd, other] = await Promise.all([startWeftd(), startWeftd()]);
    dir = mkdtempSync(join(tmpdir(), 'weft-trust-'));
  });
  afterEach(async () => {
    await Promise.all(meshes.splice(0).map((m) => m.close()));
  });
  after(async () => {
    await Promise.all([weftd?.stop(), other?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** createMesh's rejection (a mesh that starts is kept for cleanup and fails the test). */
  async function refusal(options: Partial<MeshOptions>): Promise<Error> {
    const started = Date.now();
    try {
      meshes.push(await createMesh({ service: 'cart', namespace: NS, shutdownSignals: [], drainTimeoutMs: 300, initialTimeoutMs: 10_000, ...options }));
    } catch (e) {
      expect(Date.now() - started, 'createMesh failed at once, not at its timeout').to.be.below(5000);
      return e as Error;
    }
    throw new Error('expected createMesh to fail');
  }

  async function sessionCount(w: WeftdHandle): Promise<number> {
    return ((await (await adminFetch(`${w.adminUrl}/v1/sessions`)).json()) as { sessions: unknown[] }).sessions.length;
  }

  it("refuses a weftd that did not make the token: the CA hash does not match, and weftd never sees the token", async () => {
    const foreignToken = await createToken(other.adminUrl, NS);
    // A token of this weftd's shape and hash, but unknown to it, reaches weftd and is refused there:
    // it shows what weftd logs of a token it was sent.
    const ownToken = await createToken(weftd.adminUrl, NS);
    const unknown = ownToken.replace(/^weft1\.[0-9a-f]{16}/, 'weft1.0123456789abcdef');
    expect((await refusal({ controlPlane: weftd.grpcAddress, token: unknown })).message).to.include('unknown to this weftd');
    expect(weftd.output()).to.match(/certificate refused: .*unknown to this weftd/);
    const logBefore = weftd.output();

    const e = await refusal({ controlPlane: weftd.grpcAddress, token: foreignToken });
    expect(isWeftErrorCode(e, 'CONTROL_PLANE_UNAVAILABLE'), String(e)).to.equal(true);
    expect(e.message).to.equal(
      `${weftd.grpcAddress} is not trusted as weftd: its CA does not match the join token's CA hash (${foreignToken.slice(-64, -48)}...): ` +
        'no root of the certificate chain it presented has that hash, so it is not the weftd that made the token, or its CA was replaced; nothing was sent to it. ' +
        'Check options.controlPlane or WEFT_CONTROL_PLANE, or create a new token on this weftd (weftctl token create)',
    );
    expect(weftd.output().slice(logBefore.length)).to.equal(''); // no session, no certificate request
    expect(await sessionCount(weftd)).to.equal(0);
    // The same token is good with the weftd that made it.
    const enrolled = await createMesh({ service: 'cart', namespace: NS, controlPlane: other.grpcAddress, token: foreignToken, shutdownSignals: [] });
    meshes.push(enrolled);
    expect(enrolled.status().identity?.spiffeId).to.equal(`spiffe://cluster.local/ns/${NS}/sa/default`);
  });

  it("refuses a weftd whose certificate does not chain to the caFile (another weftd's ca.pem), naming the file", async () => {
    const e = await refusal({ controlPlane: weftd.grpcAddress, caFile: other.caFile });
    expect(isWeftErrorCode(e, 'CONTROL_PLANE_UNAVAILABLE'), String(e)).to.equal(true);
    expect(e.message).to.equal(
      `${weftd.grpcAddress} is not trusted as weftd: its certificate cannot be trusted by caFile ${other.caFile} (options.caFile or WEFT_CA_FILE): ` +
        'the chain does not lead to a root of the trust bundle',
    );
    expect(await sessionCount(weftd)).to.equal(0);
  });

  it('refuses a TLS server with a mesh workload certificate (not weftd): it is not weftd\'s identity, with a token or a caFile', async () => {
    const workload = await createMesh({ service: 'cart', namespace: NS, controlPlane: weftd.grpcAddress, token: await createToken(weftd.adminUrl, NS), shutdownSignals: [] });
    meshes.push(workload);
    const own = workload.identity!.credentials()!;
    // Chain and root: with them a token's CA hash matches, so only the identity is left to fail.
    const impostor = tls.createServer({ key: own.keyPem, cert: own.chainPem + own.bundlePem }, (s) => s.end());
    await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(impostor.address() as AddressInfo).port}`;
    try {
      for (const trust of [{ caFile: weftd.caFile }, { token: await createToken(weftd.adminUrl, NS, 'web') }]) {
        const e = await refusal({ controlPlane: address, serviceAccount: trust.token ? 'web' : 'default', ...trust });
        expect(isWeftErrorCode(e, 'CONTROL_PLANE_UNAVAILABLE'), String(e)).to.equal(true);
        expect(e.message, Object.keys(trust)[0]).to.equal(
          `${address} is not trusted as weftd: its certificate names spiffe://cluster.local/ns/${NS}/sa/default, not weftd's identity ` +
            "(spiffe://<trust-domain>/ns/istio-system/sa/weftd): the address is not weftd's session port (a workload's port?); check options.controlPlane or WEFT_CONTROL_PLANE",
        );
      }
    } finally {
      await new Promise((r) => impostor.close(r));
    }
  });

  it('takes weftd\'s roots from WEFT_CA_FILE, and fails on one that does not exist or holds no PEM, naming it', async () => {
    const saved = process.env.WEFT_CA_FILE;
    const empty = join(dir, 'empty.pem');
    writeFileSync(empty, '# weftd\'s ca.pem goes here\n');
    try {
      process.env.WEFT_CA_FILE = weftd.caFile;
      const m = await createMesh({ service: 'web', namespace: NS, controlPlane: weftd.grpcAddress, shutdownSignals: [] });
      meshes.push(m);
      expect(m.status().connected).to.equal(true);
      expect(m.options.caFile).to.equal(weftd.caFile);
      for (const [file, why] of [[join(dir, 'missing.pem'), 'cannot read it (ENOENT)'], [empty, 'holds no PEM certificate']] as const) {
        process.env.WEFT_CA_FILE = file;
        const e = await refusal({ controlPlane: weftd.grpcAddress });
        expect(isWeftErrorCode(e, 'INVALID_ARGUMENT'), String(e)).to.equal(true);
        expect(e.message).to.equal(`caFile ${file}: ${why}; it should be weftd's <data-dir>/ca.pem`);
      }
    } finally {
      if (saved === undefined) delete process.env.WEFT_CA_FILE;
      else process.env.WEFT_CA_FILE = saved;
    }
  });
});
