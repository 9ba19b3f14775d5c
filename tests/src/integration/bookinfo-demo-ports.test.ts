// The demo listens on the ports a user's weftctl and browser look at first, and when one is taken it
// says so and prints the exports that point weftctl and workloads at the weftd it started instead.
// No fixed ports: the test takes ports of its own and asks the demo for those.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const DEMO_BIN = fileURLToPath(new URL('../../../examples/bookinfo/dist/demo.js', import.meta.url));

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

async function occupyPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

describe('Bookinfo demo ports', function () {
  this.timeout(90_000);

  it('falls back to free ports when the wanted ones are taken, and prints the exports for the ones it got', async () => {
    const taken = await Promise.all([occupyPort(), occupyPort(), occupyPort()]);
    const [grpc, admin, page] = taken.map((t) => t.port) as [number, number, number];
    try {
      const proc = spawn(
        process.execPath,
        [DEMO_BIN, '--requests', '5', '--weftd-port', String(grpc), '--weftd-admin-port', String(admin), '--productpage-port', String(page)],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const timer = setTimeout(() => proc.kill('SIGKILL'), 80_000);
      const code = await new Promise<number | null>((resolve) => proc.once('close', (c) => resolve(c)));
      clearTimeout(timer);
      expect(code, out).to.equal(0);

      const [, grpcAddress, adminUrl] = /weftd +pid \d+: control plane (127\.0\.0\.1:\d+), admin API (https:\/\/127\.0\.0\.1:\d+)/.exec(out) ?? [];
      expect(grpcAddress, out).to.be.a('string');
      expect(grpcAddress).to.not.equal(`127.0.0.1:${grpc}`);
      expect(adminUrl).to.not.equal(`https://127.0.0.1:${admin}`);
      expect(out).to.contain(`port ${grpc} (--weftd-port) and ${admin} (--weftd-admin-port) in use`);
      expect(out).to.contain(`(port ${page} was in use, so productpage took a free one)`);
      // The exact lines to paste, for the addresses weftd printed; neither is a default, so no "not needed" note.
      expect(out).to.match(new RegExp(`^ +export WEFT_SERVER=${escapeRegExp(adminUrl!)}$`, 'm'));
      expect(out).to.match(new RegExp(`^ +export WEFT_CONTROL_PLANE=${escapeRegExp(grpcAddress!)}$`, 'm'));
      // weftctl needs the demo weftd's admin credential: the export names the file in its data dir.
      expect(out).to.match(/^ +export WEFT_CREDENTIALS=\S+\/weft-demo-[^/\s]+\/admin\.cred$/m);
      expect(out).to.not.contain(`productpage at http://127.0.0.1:${page}`);
      expect(out).to.contain('Done: every phase behaved as expected.');
    } finally {
      await Promise.all(taken.map((t) => new Promise((resolve) => t.server.close(resolve))));
    }
  });
});
