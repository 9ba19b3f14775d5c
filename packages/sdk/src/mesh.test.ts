// createMesh without a reachable weftd: bounded failure, nothing left running.
import { expect } from 'chai';
import net from 'node:net';
import { createMesh } from './mesh.js';
import { isWeftErrorCode } from './errors.js';

async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('createMesh', () => {
  it('rejects with CONTROL_PLANE_UNAVAILABLE at once when weftd is unreachable', async () => {
    const started = Date.now();
    const e = await createMesh({ service: 'web', controlPlane: `127.0.0.1:${await unusedPort()}`, initialTimeoutMs: 300 }).catch((err: unknown) => err);
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
    const saved = process.env.WEFT_CONTROL_PLANE;
    delete process.env.WEFT_CONTROL_PLANE;
    try {
      const e = await createMesh({ service: 'web' }).catch((err: unknown) => err);
      expect(isWeftErrorCode(e, 'CONTROL_PLANE_UNAVAILABLE'), String(e)).to.equal(true);
      expect((e as Error).message).to.include('connection refused by 127.0.0.1:15010');
    } finally {
      if (saved !== undefined) process.env.WEFT_CONTROL_PLANE = saved;
    }
  });
});
