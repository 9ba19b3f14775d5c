// Graceful shutdown with real processes: an instance stopped by SIGTERM (the mesh's default handler)
// or by close() leaves every caller's view before it stops serving, and finishes what is in flight,
// so a rolling restart under steady load loses no request.
import { expect } from 'chai';
import type { Mesh } from '@weft/sdk';
import { SDK_URL, servingEnv, startScript, type ScriptProcess } from '../support/sdk-script.js';
import { startWeftd, type WeftdHandle } from '../support/weftd.js';
import { NS, waitFor } from './sdk-fixtures.js';
import { createMesh } from '@weft/sdk';

/**
 * An `echo` instance in its own process; it answers after `delayMs` and relies on the SIGTERM default.
 * `env` says where weftd is and holds its join token (servingEnv).
 */
function echoInstance(env: Record<string, string>, service: string, name: string, delayMs: number, extra = ''): ScriptProcess {
  return startScript(
    `
    import { createMesh } from ${JSON.stringify(SDK_URL)};
    const mesh = await createMesh({ service: ${JSON.stringify(service)}, namespace: ${JSON.stringify(NS)}, drainTimeoutMs: 3000 });
    const server = await mesh.serve((req, res) => setTimeout(() => res.end(${JSON.stringify(name)}), ${delayMs}), { port: 0 });
    ${extra}
    console.log('ready', server.address().port);
    `,
    env,
  );
}

interface Load {
  stop(): Promise<{ ok: number; failures: string[]; byInstance: Record<string, number> }>;
}

/** `concurrency` callers sending back to back until stopped (bounded to 60 s). */
function steadyLoad(mesh: Mesh, url: string, concurrency: number): Load {
  let running = true;
  const deadline = Date.now() + 60_000;
  let ok = 0;
  const failures: string[] = [];
  const byInstance: Record<string, number> = {};
  const worker = async () => {
    while (running && Date.now() < deadline) {
      try {
        const res = await mesh.request(url);
        const text = await res.body.text();
        if (res.statusCode === 200) {
          ok++;
          byInstance[text] = (byInstance[text] ?? 0) + 1;
        } else failures.push(`status ${res.statusCode}: ${text}`);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      return { ok, failures, byInstance };
    },
  };
}

describe('SDK graceful shutdown', function () {
  this.timeout(60_000);
  let weftd: WeftdHandle;
  const scripts: ScriptProcess[] = [];
  let client: Mesh | undefined;

  before(async () => {
    weftd = await startWeftd();
  });

  afterEach(async () => {
    await client?.close();
    client = undefined;
    await Promise.all(scripts.splice(0).map((s) => s.dispose()));
  });

  after(async () => {
    await weftd?.stop();
  });

  const start = async (service: string, name: string, delayMs: number, extra = '') => {
    const s = echoInstance(await servingEnv(weftd.grpcAddress, NS), service, name, delayMs, extra);
    scripts.push(s);
    await s.waitFor(/ready \d+/, 15_000);
    return s;
  };

  it('a rolling restart of one of two instances under steady load loses no request (SIGTERM default)', async () => {
    const a = await start('rolling', 'a', 5);
    await start('rolling', 'b', 5);
    client = await createMesh({ service: 'caller', namespace: NS, controlPlane: weftd.grpcAddress, caFile: weftd.caFile, subscribe: ['rolling'] });
    const inView = () => client!.status().hosts[`rolling.${NS}.svc.cluster.local`];
    await waitFor('both instances in view', () => inView() === 2);
    const load = steadyLoad(client, 'http://rolling/', 8);
    await new Promise((r) => setTimeout(r, 400));
    a.proc.kill('SIGTERM');
    const exit = await a.exited;
    expect(exit.signal ?? exit.code, a.output()).to.be.oneOf(['SIGTERM', 0]);
    await start('rolling', 'a2', 5);
    await waitFor('the new instance in view', () => inView() === 2, 10_000);
    await new Promise((r) => setTimeout(r, 400));
    const result = await load.stop();
    expect(result.failures, result.failures.slice(0, 5).join('\n')).to.deep.equal([]);
    expect(result.byInstance.a, JSON.stringify(result.byInstance)).to.be.above(0);
    expect(result.byInstance.a2, JSON.stringify(result.byInstance)).to.be.above(0);
  });

  it('close() lets slow in-flight requests finish, answered with Connection: close', async () => {
    // The instance closes itself 300 ms after its first request arrives; that request takes 1 s.
    const slow = await start('slowpoke', 'slow', 1000, `
      let closing = false;
      server.on('request', () => { if (!closing) { closing = true; setTimeout(() => mesh.close().then(() => console.log('closed')), 300); } });
    `);
    client = await createMesh({ service: 'caller', namespace: NS, controlPlane: weftd.grpcAddress, caFile: weftd.caFile });
    const res = await client.request('http://slowpoke/');
    expect(res.statusCode).to.equal(200);
    expect(res.headers.connection).to.equal('close');
    expect(await res.body.text()).to.equal('slow');
    await slow.waitFor(/closed/, 10_000);
  });
});
