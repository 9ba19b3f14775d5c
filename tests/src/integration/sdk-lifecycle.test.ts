// The SDK's lifecycle as an app sees it: a script that used the mesh exits by itself, and createMesh
// against a wrong address (nothing there, weftd's HTTPS admin port, a plaintext HTTP server, a name that
// does not resolve) says why at once instead of waiting out its timeout.
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { expect } from 'chai';
import { createMesh, isWeftErrorCode } from '@weft/sdk';
import { clientEnv, runScript, SDK_URL } from '../support/sdk-script.js';
import { startWeftd, type WeftdHandle } from '../support/weftd.js';
import { NS, startWorkload, type Workload } from './sdk-fixtures.js';

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('SDK lifecycle', function () {
  this.timeout(30_000);
  let weftd: WeftdHandle;
  let echo: Workload;

  before(async () => {
    weftd = await startWeftd();
    echo = await startWorkload(weftd.grpcAddress, 'echo', 'echo-1');
  });

  after(async () => {
    await echo?.mesh.close();
    await weftd?.stop();
  });

  it('a script that fetched through the mesh and never called close() exits by itself, fast', async () => {
    const script = `
      import { createMesh } from ${JSON.stringify(SDK_URL)};
      const mesh = await createMesh({ service: 'job', namespace: ${JSON.stringify(NS)} });
      const res = await mesh.fetch('http://echo/');
      console.log('answer', (await res.json()).name);
    `;
    const run = await runScript(script, clientEnv(weftd.grpcAddress), 10_000);
    expect(run.killed, `the script did not exit by itself:\n${run.out}`).to.equal(false);
    expect(run.out).to.include('answer echo-1');
    expect(run.code).to.equal(0);
    expect(run.ms, run.out).to.be.below(5000);
  });

  it('createMesh against a port nothing listens on fails at once, saying the connection was refused', async () => {
    const address = `127.0.0.1:${await deadPort()}`;
    const started = Date.now();
    const err = await createMesh({ service: 'x', controlPlane: address, caFile: weftd.caFile, initialTimeoutMs: 10_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isWeftErrorCode(err, 'CONTROL_PLANE_UNAVAILABLE'), String(err)).to.equal(true);
    expect((err as Error).message).to.include(`connection refused by ${address}`).and.include('npx weftd');
    expect(Date.now() - started).to.be.below(5000);
  });

  it("createMesh pointed at weftd's admin port (HTTPS, HTTP/1.1 only) names the mistake", async () => {
    const address = new URL(weftd.adminUrl).host;
    const started = Date.now();
    const err = await createMesh({ service: 'x', controlPlane: address, caFile: weftd.caFile, initialTimeoutMs: 10_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isWeftErrorCode(err, 'CONTROL_PLANE_UNAVAILABLE'), String(err)).to.equal(true);
    expect((err as Error).message)
      .to.match(new RegExp(`^${address} does not speak weftd's session protocol \\(gRPC over HTTP/2 on TLS\\): it speaks TLS but refused HTTP/2`))
      .and.include("If this is weftd's admin API port (HTTPS, default 15000, for weftctl), use its session port instead");
    expect((err as Error).message).not.to.match(/SSL routines|deps\/openssl/);
    expect(Date.now() - started).to.be.below(5000);
  });

  it('createMesh pointed at a plaintext HTTP server says it answered without TLS', async () => {
    const plain = createHttpServer((_req, res) => res.end('not weftd'));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(plain.address() as { port: number }).port}`;
    try {
      const err = await createMesh({ service: 'x', controlPlane: address, caFile: weftd.caFile, initialTimeoutMs: 10_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isWeftErrorCode(err, 'CONTROL_PLANE_UNAVAILABLE'), String(err)).to.equal(true);
      expect((err as Error).message).to.equal(
        `${address} answered without TLS (wrong version number): weftd's session port is TLS, so this is a plaintext server (an HTTP server? a weftd from before TLS?); check options.controlPlane or WEFT_CONTROL_PLANE`,
      );
    } finally {
      plain.closeAllConnections();
      await new Promise((r) => plain.close(r));
    }
  });

  it('createMesh against a host that does not resolve says so', async () => {
    const err = await createMesh({ service: 'x', controlPlane: 'no-such-host.invalid:15010', caFile: weftd.caFile, initialTimeoutMs: 10_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).message).to.include('cannot resolve the host of no-such-host.invalid:15010');
  });
});
