// The SDK's lifecycle as an app sees it: a script that used the mesh exits by itself, and createMesh
// against a wrong address says why at once instead of waiting out its timeout.
import { createServer } from 'node:net';
import { expect } from 'chai';
import { createMesh, isWeftErrorCode } from '@weft/sdk';
import { runScript, SDK_URL } from '../support/sdk-script.js';
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
    const run = await runScript(script, { WEFT_CONTROL_PLANE: weftd.grpcAddress }, 10_000);
    expect(run.killed, `the script did not exit by itself:\n${run.out}`).to.equal(false);
    expect(run.out).to.include('answer echo-1');
    expect(run.code).to.equal(0);
    expect(run.ms, run.out).to.be.below(5000);
  });

  it('createMesh against a port nothing listens on fails at once, saying the connection was refused', async () => {
    const address = `127.0.0.1:${await deadPort()}`;
    const started = Date.now();
    const err = await createMesh({ service: 'x', controlPlane: address, initialTimeoutMs: 10_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isWeftErrorCode(err, 'CONTROL_PLANE_UNAVAILABLE'), String(err)).to.equal(true);
    expect((err as Error).message).to.include(`connection refused by ${address}`).and.include('npx weftd');
    expect(Date.now() - started).to.be.below(5000);
  });

  it("createMesh pointed at weftd's admin port names the mistake", async () => {
    const address = weftd.adminUrl.replace('http://', '');
    const err = await createMesh({ service: 'x', controlPlane: address, initialTimeoutMs: 10_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).message).to.include("does not speak weftd's session protocol").and.include('admin API');
  });

  it('createMesh against a host that does not resolve says so', async () => {
    const err = await createMesh({ service: 'x', controlPlane: 'no-such-host.invalid:15010', initialTimeoutMs: 10_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).message).to.include('cannot resolve the host of no-such-host.invalid:15010');
  });
});
