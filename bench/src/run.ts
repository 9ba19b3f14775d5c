// `npm run bench`: the SDK's data-plane overhead against bare undici, push convergence of weftd to
// many SDK sessions, and weftd's heap after sessions subscribed to many hosts and left. Prints the
// figures and writes bench/results.json, a flat object of named numbers whose names stay stable across
// releases. Machines are noisy: the variants of one comparison run interleaved in rounds in one
// process, and only ratios measured side by side are compared.
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, Pool, fetch as undiciFetch, request as undiciRequest } from 'undici';
import { createMesh } from '@weft/sdk';
import { createToken, applyYaml, closedLoop, percentile, sleep, startDaemon, stopChild, type Daemon, type LoadResult } from './util.js';
import { benchSubscribeHeap } from './subscribe-heap.js';
import { benchCaSign } from './ca-sign.js';
import { benchFirstCert } from './ca-first-cert.js';
import { benchMtls } from './mtls-throughput.js';
import { benchPipelineFull } from './pipeline-full.js';
import { benchSidecar } from './sidecar.js';
import { benchLbSlowBackend } from './lb-slow-backend.js';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    seconds: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '16' },
    sessions: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '2' },
    applies: { type: 'string', default: '100' },
    'warmup-applies': { type: 'string', default: '5' },
    'sidecar-threads': { type: 'string', default: '1' },
    out: { type: 'string', default: fileURLToPath(new URL('../results.json', import.meta.url)) },
  },
});
const results: Record<string, number> = {};

function record(prefix: string, r: LoadResult): void {
  results[`${prefix}.rps`] = Math.round(r.rps);
  results[`${prefix}.p50_ms`] = round(r.p50);
  results[`${prefix}.p99_ms`] = round(r.p99);
  results[`${prefix}.errors`] = r.errors;
}
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

function merge(rs: LoadResult[]): LoadResult {
  const requests = rs.reduce((s, r) => s + r.requests, 0);
  const seconds = rs.reduce((s, r) => s + r.seconds, 0);
  // Percentiles of the rounds' percentiles: the median round's value keeps one noisy round from dominating.
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { requests, seconds, errors: rs.reduce((s, r) => s + r.errors, 0), rps: requests / seconds, p50: mid(rs.map((r) => r.p50)), p99: mid(rs.map((r) => r.p99)) };
}

async function benchFetch(daemon: Daemon): Promise<void> {
  const echo = fork(fileURLToPath(new URL('./echo-server.js', import.meta.url)), [], {
    env: { ...process.env, WEFT_CONTROL_PLANE: daemon.grpc, WEFT_TOKEN: await createToken(daemon.admin, 'default') },
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      echo.once('message', (m: { port: number }) => resolve(m.port));
      echo.once('exit', (code) => reject(new Error(`echo server exited with ${code}`)));
    });
    // No token: a client-only mesh calls plaintext, so these are the figures of plain HTTP (mtls.* has TLS).
    const mesh = await createMesh({ service: 'bench-client', namespace: 'bench', controlPlane: daemon.grpc, caFile: daemon.caFile, subscribe: ['echo'] });
    // Bare baselines: an Agent (what undici's global dispatcher is), a Pool bound to the one origin (the
    // cheapest dispatcher undici has) and, for fetch, the platform's own fetch (whose Response class
    // mesh.fetch returns). The ratios are taken against the fastest of them.
    const bare = `http://127.0.0.1:${port}/`;
    const agent = new Agent({ connections: null, pipelining: 1 });
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: null, pipelining: 1 });
    const variants: Record<string, () => Promise<void>> = {
      'fetch.bare': async () => void (await (await undiciFetch(bare, { dispatcher: agent })).text()),
      'fetch.bare_pool': async () => void (await (await undiciFetch(bare, { dispatcher: pool })).text()),
      'fetch.bare_global': async () => void (await (await fetch(bare)).text()),
      'fetch.mesh': async () => void (await (await mesh.fetch('http://echo/')).text()),
      'request.bare': async () => void (await (await undiciRequest(bare, { dispatcher: agent })).body.text()),
      'request.bare_pool': async () => void (await (await undiciRequest(bare, { dispatcher: pool })).body.text()),
      // The dispatcher's own method, without undici.request's per-call URL parsing: the floor the
      // mesh's transport (which calls pool.request on its endpoint's pool) cannot go below.
      'request.dispatcher': async () => void (await (await pool.request({ path: '/', method: 'GET' })).body.text()),
      'request.mesh': async () => void (await (await mesh.request('http://echo/')).body.text()),
    };
    const conc = Number(args.concurrency);
    const ms = Number(args.seconds) * 1000;
    for (const send of Object.values(variants)) await closedLoop(send, conc, 300); // warm pools and JIT
    const runs: Record<string, LoadResult[]> = {};
    const order = Object.entries(variants);
    for (let r = 0; r < Number(args.rounds); r++) {
      // Rotate the order each round so no variant always runs right after the same neighbour.
      for (let i = 0; i < order.length; i++) {
        const [name, send] = order[(i + r) % order.length]!;
        (runs[name] ??= []).push(await closedLoop(send, conc, ms));
      }
    }
    for (const [name, rs] of Object.entries(runs)) record(name, merge(rs));
    const best = (...names: string[]) => Math.max(...names.map((n) => results[`${n}.rps`]!));
    results['fetch.throughput_ratio'] = round(results['fetch.mesh.rps']! / best('fetch.bare', 'fetch.bare_pool', 'fetch.bare_global'));
    results['request.throughput_ratio'] = round(results['request.mesh.rps']! / best('request.bare', 'request.bare_pool'));
    results['request.dispatcher_ratio'] = round(results['request.mesh.rps']! / results['request.dispatcher.rps']!);
    results['fetch.p99_ratio'] = round(results['fetch.mesh.p99_ms']! / results['fetch.bare.p99_ms']!);
    results['request.p99_ratio'] = round(results['request.mesh.p99_ms']! / results['request.bare_pool.p99_ms']!);
    results['fetch.concurrency'] = conc;
    await mesh.close();
    await agent.close();
    await pool.close();
  } finally {
    await stopChild(echo);
  }
}

async function benchPush(daemon: Daemon): Promise<void> {
  const total = Number(args.sessions);
  const nWorkers = Math.max(1, Math.min(Number(args.workers), total));
  const applied = new Map<string, number[]>(); // config version → apply moments
  // A mesh holds more than the one rule that changes: Bookinfo's destination-rule-all + all-v1 shape for
  // four services, so every push carries nine resources of which one is new.
  const services = ['productpage', 'details', 'ratings', 'reviews'];
  await applyYaml(daemon.admin, services.map((svc) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${svc}, namespace: bench}
spec:
  host: ${svc}
  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${svc}, namespace: bench}
spec:
  hosts: [${svc}]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: ${svc}, subset: v2}}]
  - route: [{destination: {host: ${svc}, subset: v1}}]
`).join('---\n'));
  results['push.resources'] = services.length * 2 + 1;
  const workers = Array.from({ length: nWorkers }, (_, i) => {
    const count = Math.floor(total / nWorkers) + (i < total % nWorkers ? 1 : 0);
    const offset = i * Math.floor(total / nWorkers) + Math.min(i, total % nWorkers);
    return fork(fileURLToPath(new URL('./push-worker.js', import.meta.url)), [String(count), String(offset)], {
      env: { ...process.env, WEFT_CONTROL_PLANE: daemon.grpc, WEFT_CA_FILE: daemon.caFile },
    });
  });
  try {
    const t0 = performance.now();
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
      w.on('message', (m: { type: string; version?: string; at?: number[] }) => {
        if (m.type === 'ready') resolve();
        if (m.type === 'applied') {
          const list = applied.get(m.version!) ?? [];
          list.push(...m.at!);
          applied.set(m.version!, list);
        }
      });
      w.once('exit', (code) => reject(new Error(`push worker exited with ${code}`)));
    })));
    results['push.sessions'] = total;
    results['push.connect_all_ms'] = Math.round(performance.now() - t0);
    const lastLatencies: number[] = [];
    const allLatencies: number[] = [];
    const coldLatencies: number[] = [];
    const firstLatencies: number[] = [];
    const warmup = Number(args['warmup-applies']);
    // The first applies run while V8 still interprets the SDK's config path in every session; they are
    // reported apart (push.cold_*), and the steady state is what push.p50_ms/p99_ms describe.
    for (let k = 0; k < warmup + Number(args.applies); k++) {
      const w = k % 2 === 0 ? 80 : 20;
      const yaml = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: echo, namespace: bench}
spec:
  hosts: [echo]
  http:
  - route:
    - destination: {host: echo}
      weight: ${w}
    - destination: {host: echo.bench}
      weight: ${100 - w}
`;
      const revision = await applyYaml(daemon.admin, yaml);
      const ackedAt = performance.timeOrigin + performance.now();
      const deadline = Date.now() + 10000;
      while ((applied.get(String(revision))?.length ?? 0) < total && Date.now() < deadline) await sleep(2);
      const at = applied.get(String(revision)) ?? [];
      if (at.length < total) throw new Error(`only ${at.length} of ${total} sessions applied revision ${revision} within 10 s`);
      const lat = at.map((t) => Math.max(0, t - ackedAt));
      if (k < warmup) {
        coldLatencies.push(Math.max(...lat));
      } else {
        allLatencies.push(...lat);
        lastLatencies.push(Math.max(...lat));
        firstLatencies.push(Math.min(...lat));
      }
      await sleep(50);
    }
    if (process.env.WEFT_BENCH_DEBUG) console.log('per-apply last-session ms:', lastLatencies.map((x) => Math.round(x)).join(' '));
    if (process.env.WEFT_BENCH_DEBUG) console.log('per-apply first-session ms:', firstLatencies.map((x) => Math.round(x)).join(' '));
    lastLatencies.sort((a, b) => a - b);
    allLatencies.sort((a, b) => a - b);
    results['push.p50_ms'] = round(percentile(lastLatencies, 50), 1);
    results['push.p99_ms'] = round(percentile(lastLatencies, 99), 1);
    results['push.session_p50_ms'] = round(percentile(allLatencies, 50), 1);
    results['push.session_p99_ms'] = round(percentile(allLatencies, 99), 1);
    results['push.applies'] = lastLatencies.length;
    if (coldLatencies.length > 0) {
      results['push.cold_first_ms'] = round(coldLatencies[0]!, 1);
      results['push.cold_max_ms'] = round(Math.max(...coldLatencies), 1);
    }
  } finally {
    for (const w of workers) w.send({ type: 'stop' });
    await Promise.all(workers.map((w) => stopChild(w, null)));
  }
}

const daemon = await startDaemon();
try {
  if (!args.only || args.only === 'fetch') await benchFetch(daemon);
  if (!args.only || args.only === 'push') await benchPush(daemon);
  if (!args.only || args.only === 'ca') Object.assign(results, await benchFirstCert(daemon));
  if (!args.only || args.only === 'mtls') {
    Object.assign(results, await benchMtls(daemon, { seconds: Number(args.seconds), rounds: Number(args.rounds), concurrency: Number(args.concurrency) }));
  }
  if (!args.only || args.only === 'sidecar') {
    Object.assign(results, await benchSidecar(daemon, { seconds: Number(args.seconds), rounds: Number(args.rounds), concurrency: Number(args.concurrency), threads: Number(args['sidecar-threads']) }));
  }
  if (!args.only || args.only === 'pipeline') {
    Object.assign(results, await benchPipelineFull(daemon, { seconds: Number(args.seconds), rounds: Number(args.rounds), concurrency: Number(args.concurrency) }));
  }
  if (!args.only || args.only === 'lb') Object.assign(results, await benchLbSlowBackend(daemon, { rounds: Number(args.rounds) }));
} finally {
  await daemon.stop();
}
if (!args.only || args.only === 'heap') Object.assign(results, await benchSubscribeHeap());
if (!args.only || args.only === 'ca') Object.assign(results, benchCaSign({ seconds: Number(args.seconds), rounds: Number(args.rounds) }));
for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(28)} ${v}`);
writeFileSync(args.out!, JSON.stringify(results, null, 2) + '\n');
console.log(`wrote ${args.out}`);
