// createMesh without a reachable weftd: bounded failure, nothing left running; and what it needs before
// it connects at all (a way to trust weftd: a join token or a caFile with weftd's roots).
import { expect } from 'chai';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority } from '@weft/ca';
import { createMesh } from './mesh.js';
import { isWeftErrorCode } from './errors.js';

async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** A join token of the right shape; no weftd made it (nothing here reaches one). */
const TOKEN = `weft1.0123456789abcdef.${'A'.repeat(42)}g.${'f'.repeat(64)}`;

/** Runs `f` with WEFT_TOKEN, WEFT_CA_FILE and WEFT_CONTROL_PLANE as given (unset when undefined), then puts them back. */
async function withEnv<T>(env: { WEFT_TOKEN?: string; WEFT_CA_FILE?: string; WEFT_CONTROL_PLANE?: string }, f: () => Promise<T>): Promise<T> {
  const names = ['WEFT_TOKEN', 'WEFT_CA_FILE', 'WEFT_CONTROL_PLANE'] as const;
  const saved = names.map((n) => process.env[n]);
  for (const n of names) {
    if (env[n] === undefined) delete process.env[n];
    else process.env[n] = env[n];
  }
  try {
    return await f();
  } finally {
    names.forEach((n, i) => (saved[i] === undefined ? delete process.env[n] : (process.env[n] = saved[i])));
  }
}

describe('createMesh', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'weft-mesh-test-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('rejects with CONTROL_PLANE_UNAVAILABLE at once when weftd is unreachable', async () => {
    const started = Date.now();
    const e = await createMesh({ service: 'web', controlPlane: `127.0.0.1:${await unusedPort()}`, initialTimeoutMs: 300, token: TOKEN }).catch((err: unknown) => err);
    expect(isWeftErrorCode(e, 'CONTROL_PLANE_UNAVAILABLE'), String(e)).to.equal(true);
    expect(Date.now() - started).to.be.below(3000);
  });

  it("without a configured control plane it tries weftd's default session address, 127.0.0.1:15010", async function () {
    const probe = net.createServer();
    const free = await new Promise<boolean>((r) => {
      probe.once('error', () => r(false));
      probe.listen(15010, '127.0.0.1', () => probe.close(() => r(true)));
    });
    if (!free) this.skip(); // something (a weftd?) already listens there
    const e = await withEnv({ WEFT_TOKEN: TOKEN }, () => createMesh({ service: 'web' }).catch((err: unknown) => err));
    expect(isWeftErrorCode(e, 'CONTROL_PLANE_UNAVAILABLE'), String(e)).to.equal(true);
    expect((e as Error).message).to.include('connection refused by 127.0.0.1:15010');
  });

  it('without a join token and without a caFile says that it needs one, before connecting', async () => {
    const e = await withEnv({}, () => createMesh({ service: 'web', controlPlane: '127.0.0.1:1' }).catch((err: unknown) => err));
    expect(isWeftErrorCode(e, 'INVALID_ARGUMENT'), String(e)).to.equal(true);
    expect((e as Error).message)
      .to.include('createMesh needs a way to trust weftd, whose session port is TLS')
      .and.include('options.token or WEFT_TOKEN')
      .and.include("options.caFile or WEFT_CA_FILE: weftd's <data-dir>/ca.pem");
  });

  it('fails on a caFile that does not exist or holds no PEM certificate, naming the file, even with weftd away', async () => {
    const address = `127.0.0.1:${await unusedPort()}`;
    const missing = join(dir, 'missing.pem');
    const empty = join(dir, 'empty.pem');
    writeFileSync(empty, 'not a certificate\n');
    for (const [caFile, why] of [[missing, 'cannot read it (ENOENT)'], [empty, 'holds no PEM certificate']] as const) {
      for (const viaEnv of [false, true]) {
        const e = await withEnv(viaEnv ? { WEFT_CA_FILE: caFile } : {}, () =>
          createMesh({ service: 'web', controlPlane: address, ...(viaEnv ? {} : { caFile }) }).catch((err: unknown) => err),
        );
        expect(isWeftErrorCode(e, 'INVALID_ARGUMENT'), String(e)).to.equal(true);
        expect((e as Error).message).to.equal(`caFile ${caFile}: ${why}; it should be weftd's <data-dir>/ca.pem`);
      }
    }
  });

  it('with a caFile that holds roots (options.caFile or WEFT_CA_FILE) goes on to connect', async () => {
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, CertificateAuthority.createRoot().root.pem);
    const address = `127.0.0.1:${await unusedPort()}`;
    for (const viaEnv of [false, true]) {
      const e = await withEnv(viaEnv ? { WEFT_CA_FILE: caFile } : {}, () =>
        createMesh({ service: 'web', controlPlane: address, initialTimeoutMs: 3000, ...(viaEnv ? {} : { caFile }) }).catch((err: unknown) => err),
      );
      expect(isWeftErrorCode(e, 'CONTROL_PLANE_UNAVAILABLE'), String(e)).to.equal(true);
      expect((e as Error).message).to.include(`connection refused by ${address}`);
    }
  });
});
