// lb.slow_backend.*: Linkerd's 2016 "Beyond Round Robin" experiment on loopback, through mesh.request.
// Ten endpoints of one mesh service (lb-backends.ts, its own process); open-loop load at a fixed rate,
// each request with a 1 s client timeout (an AbortSignal): a request succeeds when its whole answer is
// in within 1 s. A while into each run, one endpoint turns slow (every answer waits 2 s, past the
// timeout) and, a while later, fast again. The same run for ROUND_ROBIN, LEAST_REQUEST and PEAK_EWMA
// (DestinationRule subsets over the same endpoints, chosen by a VirtualService header match), each
// run with a fresh client mesh so no balancer starts with what another learnt, interleaved in rounds.
// Reported per balancer: success, the fraction of requests that succeeded (Linkerd published round
// robin ≈ 95 %, least loaded ≈ 99 %, peak EWMA ≈ 99.9 %), and p99_ms over all requests (a failed one
// counts as the time it took to fail, about 1000 ms).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createMesh } from '@weft/sdk';
import { applyYaml, createToken, percentile, sleep, stopChild, type Daemon } from './util.js';

export interface LbBenchOptions {
  /** Runs per balancer, interleaved (default 3). */
  rounds: number;
  /** Requests per second sent (open loop; default 600). */
  rate?: number;
  /** Length of one run in ms (default 6000); the slow spell is its middle half. */
  runMs?: number;
}

const BALANCERS = [
  ['round_robin', 'ROUND_ROBIN'],
  ['least_request', 'LEAST_REQUEST'],
  ['peak_ewma', 'PEAK_EWMA'],
] as const;
const TIMEOUT_MS = 1000;
const SLOW_MS = 2000;

interface RunResult {
  sent: number;
  ok: number;
  latencies: number[];
}

function rules(): string {
  const subsets = BALANCERS.map(([name, simple]) => `  - name: ${name.replace('_', '-')}\n    trafficPolicy: {loadBalancer: {simple: ${simple}}}`).join('\n');
  const routes = BALANCERS.map(([name]) => `  - match: [{headers: {x-balancer: {exact: ${name}}}}]\n    route: [{destination: {host: lb-backend, subset: ${name.replace('_', '-')}}}]`).join('\n');
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: lb-backend, namespace: bench}
spec:
  host: lb-backend
  subsets:
${subsets}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: lb-backend, namespace: bench}
spec:
  hosts: [lb-backend]
  http:
${routes}
`;
}

async function startBackends(daemon: Daemon): Promise<{ child: ChildProcess; count: number }> {
  const child = fork(fileURLToPath(new URL('./lb-backends.js', import.meta.url)), [], {
    env: { ...process.env, WEFT_CONTROL_PLANE: daemon.grpc, WEFT_TOKEN: await createToken(daemon.admin, 'default') },
  });
  const count = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { type: string; count: number }) => resolve(m.count));
    child.once('exit', (code) => reject(new Error(`lb backends exited with ${code}`)));
  });
  return { child, count };
}

/** One run of one balancer: a fresh client, warm-up, then the measured open-loop run with the slow spell. */
async function run(daemon: Daemon, backends: ChildProcess, count: number, balancer: string, rate: number, runMs: number): Promise<RunResult> {
  const mesh = await createMesh({ service: 'lb-client', namespace: 'bench', controlPlane: daemon.grpc, caFile: daemon.caFile, subscribe: ['lb-backend'], shutdownSignals: [] });
  try {
    const deadline = Date.now() + 10_000;
    while ((mesh.status().hosts['lb-backend.bench.svc.cluster.local'] ?? 0) < count) {
      if (Date.now() > deadline) throw new Error('the lb-backend endpoints did not reach the client');
      await sleep(20);
    }
    const headers = { 'x-balancer': balancer };
    const one = async (): Promise<[boolean, number]> => {
      const t0 = performance.now();
      try {
        const res = await mesh.request('http://lb-backend/', { headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
        await res.body.text();
        return [res.statusCode === 200, performance.now() - t0];
      } catch {
        return [false, performance.now() - t0];
      }
    };
    // Warm-up: connections to every endpoint, JIT.
    const warm: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) warm.push(one());
    await Promise.all(warm);
    const result: RunResult = { sent: 0, ok: 0, latencies: [] };
    const pending: Promise<void>[] = [];
    const start = performance.now();
    let slowFrom: number | undefined = start + runMs / 4;
    let slowUntil: number | undefined = start + (3 * runMs) / 4;
    // Open loop: every 5 ms, the requests due by now, whatever is still in flight.
    while (performance.now() - start < runMs) {
      const now = performance.now();
      if (slowFrom !== undefined && now >= slowFrom) {
        backends.send({ type: 'delay', index: 0, ms: SLOW_MS });
        slowFrom = undefined;
      }
      if (slowUntil !== undefined && slowFrom === undefined && now >= slowUntil) {
        backends.send({ type: 'delay', index: 0, ms: 0 });
        slowUntil = undefined;
      }
      const due = Math.floor(((now - start) / 1000) * rate);
      while (result.sent < due) {
        result.sent++;
        pending.push(one().then(([ok, ms]) => {
          if (ok) result.ok++;
          result.latencies.push(ms);
        }));
      }
      await sleep(5);
    }
    backends.send({ type: 'delay', index: 0, ms: 0 });
    await Promise.all(pending);
    return result;
  } finally {
    await mesh.close();
  }
}

export async function benchLbSlowBackend(daemon: Daemon, opts: LbBenchOptions): Promise<Record<string, number>> {
  const rate = opts.rate ?? 600;
  const runMs = opts.runMs ?? 6000;
  await applyYaml(daemon.admin, rules());
  const { child, count } = await startBackends(daemon);
  const totals = new Map<string, RunResult>(BALANCERS.map(([name]) => [name, { sent: 0, ok: 0, latencies: [] }]));
  try {
    for (let r = 0; r < opts.rounds; r++) {
      // Rotate the order each round: no balancer always runs first, or right after the same one.
      for (let i = 0; i < BALANCERS.length; i++) {
        const [name] = BALANCERS[(i + r) % BALANCERS.length]!;
        const res = await run(daemon, child, count, name, rate, runMs);
        const t = totals.get(name)!;
        t.sent += res.sent;
        t.ok += res.ok;
        t.latencies.push(...res.latencies);
        if (process.env.WEFT_BENCH_DEBUG) console.log(`lb ${name} round ${r}: ${res.ok}/${res.sent} ok`);
      }
    }
  } finally {
    await stopChild(child);
  }
  const out: Record<string, number> = {};
  for (const [name, t] of totals) {
    t.latencies.sort((a, b) => a - b);
    out[`lb.slow_backend.success_${name}`] = Math.round((t.ok / t.sent) * 1e5) / 1e5;
    out[`lb.slow_backend.p99_ms_${name}`] = Math.round(percentile(t.latencies, 99) * 10) / 10;
  }
  out['lb.slow_backend.requests_per_balancer'] = totals.get('peak_ewma')!.sent;
  return out;
}
