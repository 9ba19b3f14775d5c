// Liveness end to end: workloads are real processes (Bookinfo's ratings), subscribers are SDK meshes.
// A `kill -9` of one instance takes it out of every subscriber's view within 3 s (weftd's default grace
// is 1 s), traffic keeps flowing to the survivor, and a restarted instance comes back into every view.
// Each ratings process enrols with a join token (it serves); the subscribers only call, so they trust
// weftd by its ca.pem and have no identity (their calls to ratings are plaintext, which PERMISSIVE takes).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createMesh, type Mesh } from '@weft/sdk';
import { caFileOf, startWeftd, type WeftdHandle } from '../support/weftd.js';
import { bookinfoToken } from '../support/bookinfo.js';

const WORKLOAD_BIN = fileURLToPath(new URL('../../../examples/bookinfo/dist/workload.js', import.meta.url));
const RATINGS = 'ratings.default.svc.cluster.local';

interface Proc {
  child: ChildProcess;
  url: string;
}

async function startRatingsProcess(weftd: WeftdHandle, name: string): Promise<Proc> {
  const child = spawn(process.execPath, [WORKLOAD_BIN, 'ratings'], {
    env: { ...process.env, WEFT_CONTROL_PLANE: weftd.grpcAddress, WEFT_TOKEN: await bookinfoToken(weftd, 'ratings'), HOSTNAME: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    if (url) return { child, url };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  throw new Error(`ratings did not start:\n${out}`);
}

function killed(p: Proc, signal: NodeJS.Signals): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.child.once('exit', () => resolve());
    p.child.kill(signal);
  });
}

/** Milliseconds until every mesh sees `count` ratings endpoints; throws after `limitMs`. */
async function untilAllSee(meshes: Mesh[], count: number, limitMs: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) {
    if (meshes.every((m) => m.status().hosts[RATINGS] === count)) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`views after ${limitMs} ms: ${meshes.map((m) => m.status().hosts[RATINGS]).join(', ')}; wanted ${count}`);
}

describe('liveness: kill -9 of a workload process', function () {
  this.timeout(60_000);
  let weftd: WeftdHandle;
  const procs: Proc[] = [];
  const meshes: Mesh[] = [];

  before(async () => {
    weftd = await startWeftd();
  });

  after(async () => {
    await Promise.all(meshes.splice(0).map((m) => m.close()));
    await Promise.all(procs.splice(0).map((p) => killed(p, 'SIGKILL')));
    await weftd?.stop();
  });

  it('leaves every view within 3 s, traffic goes on to the survivor, and a restart comes back', async () => {
    procs.push(await startRatingsProcess(weftd, 'ratings-a'), await startRatingsProcess(weftd, 'ratings-b'));
    for (const service of ['reviews', 'productpage']) {
      meshes.push(await createMesh({ service, controlPlane: weftd.grpcAddress, caFile: caFileOf(weftd.grpcAddress), subscribe: ['ratings'] }));
    }
    await untilAllSee(meshes, 2, 10_000);

    await killed(procs[0]!, 'SIGKILL');
    const goneAfter = await untilAllSee(meshes, 1, 3_000);
    expect(goneAfter).to.be.below(3_000);
    for (let i = 0; i < 20; i++) {
      const res = await meshes[i % 2]!.fetch('http://ratings:9080/ratings/0');
      expect(res.status).to.equal(200);
      await res.arrayBuffer();
    }

    procs[0] = await startRatingsProcess(weftd, 'ratings-a');
    await untilAllSee(meshes, 2, 10_000);
    for (let i = 0; i < 20; i++) {
      const res = await meshes[1]!.request('http://ratings:9080/ratings/0');
      expect(res.statusCode).to.equal(200);
      await res.body.text();
    }
  });
});
