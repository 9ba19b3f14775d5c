// sidecar.throughput_ratio and sidecar.p99_added_ms: the same traffic as the mtls bench, to the same
// echo workload, three ways, interleaved in rounds in one process at one concurrency:
//   direct  an undici Pool with the client's certificate straight to the echo workload over mTLS;
//   pair    an undici Pool in plaintext to an outbound haproxy, mTLS to an inbound haproxy, plaintext
//           to the echo workload: Istio's shape, two Envoys (sidecar-haproxy.ts);
//   weft    mesh.request('http://echo/') over auto-mTLS (the proxyless path).
// `sidecar.*` without a variant name is the pair. Any failed request or non-200 answer fails the bench.
// The CPU time each process spends per request is read too, since on a small machine that is what
// decides throughput.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { createMesh } from '@weft/sdk';
import { createToken, interleave, startMtlsEcho, type MtlsBenchOptions } from './mtls-throughput.js';
import { ensureHaproxy, startSidecarPair } from './sidecar-haproxy.js';
import type { Daemon, LoadResult } from './util.js';

export interface SidecarBenchOptions extends MtlsBenchOptions {
  /** haproxy worker threads per sidecar (nbthread). */
  threads: number;
}

const VARIANTS = { direct: 'sidecar.direct', pair: 'sidecar', weft: 'sidecar.weft' } as const;
type Variant = keyof typeof VARIANTS;

export async function benchSidecar(daemon: Daemon, opts: SidecarBenchOptions): Promise<Record<string, number>> {
  const haproxy = ensureHaproxy();
  const setup = await startMtlsEcho(daemon);
  // The inbound sidecar belongs to the echo workload, so it holds the echo's identity (bench/sa/default),
  // issued by the mesh CA through a join token as the echo's own certificate is.
  const serverSide = await createMesh({
    service: 'bench-sidecar-inbound', namespace: 'bench', serviceAccount: 'default', controlPlane: daemon.grpc,
    token: await createToken(daemon.admin, 'default'), shutdownSignals: [],
  }).catch(async (e: unknown) => {
    await setup.close();
    throw e;
  });
  let pair: Awaited<ReturnType<typeof startSidecarPair>> | undefined;
  let pairPool: Pool | undefined;
  try {
    pair = await startSidecarPair({ haproxy, appPort: setup.port, client: setup.tls, server: serverSide.identity!.tls()!, threads: opts.threads });
    pairPool = new Pool(`http://127.0.0.1:${pair.outboundPort}`, { connections: null, pipelining: 1 });
    const viaPair = pairPool;
    const send: Record<Variant, () => Promise<void>> = {
      direct: async () => expect200('direct', await setup.pool.request({ path: '/', method: 'GET' })),
      pair: async () => expect200('sidecar pair', await viaPair.request({ path: '/', method: 'GET' })),
      weft: async () => expect200('mesh.request', await setup.mesh.request('http://echo/')),
    };
    await checkPaths(setup, send, haproxy, pair.inboundPort);

    // CPU time per process around each measured run: the bench process (the clients), the echo
    // workload, and the two haproxies (which only work in the pair's runs).
    const cpu: Record<Variant, { client: number; echo: number; proxies: number; requests: number }> = {
      direct: { client: 0, echo: 0, proxies: 0, requests: 0 },
      pair: { client: 0, echo: 0, proxies: 0, requests: 0 },
      weft: { client: 0, echo: 0, proxies: 0, requests: 0 },
    };
    const proxyPids = [pair.pids.outbound, pair.pids.inbound];
    // Three variants of 2 s leave each one idle for up to 8 s between its runs: long enough for undici
    // and the echo server to close its connections, so each run is preceded by a short unmeasured one.
    // The first warm-up is longer than the mtls bench's: three clients and two proxies to bring up, and
    // on a busy machine 300 ms left the first round still opening connections and compiling.
    const runs = await interleave(send, { ...opts, rewarmMs: opts.rewarmMs ?? 200, warmupMs: opts.warmupMs ?? 1000 }, async (name, run) => {
      const c0 = process.cpuUsage();
      const e0 = processCpuUs(setup.echoPid);
      const p0 = proxyPids.reduce((s, pid) => s + processCpuUs(pid), 0);
      const r = await run();
      const c1 = process.cpuUsage(c0);
      const acc = cpu[name as Variant];
      acc.client += c1.user + c1.system;
      acc.echo += processCpuUs(setup.echoPid) - e0;
      acc.proxies += proxyPids.reduce((s, pid) => s + processCpuUs(pid), 0) - p0;
      acc.requests += r.requests;
      return r;
    });

    const results: Record<string, number> = {};
    const merged = {} as Record<Variant, LoadResult>;
    for (const v of Object.keys(VARIANTS) as Variant[]) {
      const m = (merged[v] = merge(runs[v]!));
      const prefix = VARIANTS[v];
      results[`${prefix}.rps`] = Math.round(m.rps);
      results[`${prefix}.p50_ms`] = round(m.p50);
      results[`${prefix}.p99_ms`] = round(m.p99);
      results[`${prefix}.errors`] = m.errors;
      const c = cpu[v];
      results[`${prefix}.cpu_us_per_req`] = Math.round((c.client + c.echo + c.proxies) / c.requests);
      results[`${prefix}.client_cpu_us_per_req`] = Math.round(c.client / c.requests);
      results[`${prefix}.echo_cpu_us_per_req`] = Math.round(c.echo / c.requests);
    }
    results['sidecar.proxies_cpu_us_per_req'] = Math.round(cpu.pair.proxies / cpu.pair.requests);
    results['sidecar.throughput_ratio'] = round(merged.weft.rps / merged.pair.rps);
    // CPU spent per request by the pair's processes over Weft's: what throughput follows once the cores are busy.
    results['sidecar.cpu_ratio'] = round(results['sidecar.cpu_us_per_req']! / results['sidecar.weft.cpu_us_per_req']!);
    results['sidecar.pair_direct_ratio'] = round(merged.pair.rps / merged.direct.rps);
    results['sidecar.weft_direct_ratio'] = round(merged.weft.rps / merged.direct.rps);
    results['sidecar.p50_added_ms'] = round(merged.pair.p50 - merged.direct.p50);
    results['sidecar.p99_added_ms'] = round(merged.pair.p99 - merged.direct.p99);
    results['sidecar.weft_p50_added_ms'] = round(merged.weft.p50 - merged.direct.p50);
    results['sidecar.weft_p99_added_ms'] = round(merged.weft.p99 - merged.direct.p99);
    results['sidecar.concurrency'] = opts.concurrency;
    results['sidecar.haproxy_threads'] = opts.threads;
    const errors = (Object.keys(VARIANTS) as Variant[]).map((v) => `${merged[v].errors} ${v}`);
    if (merged.direct.errors + merged.pair.errors + merged.weft.errors > 0) throw new Error(`sidecar bench: failed requests (${errors.join(', ')}); no figures reported`);
    return results;
  } finally {
    await pairPool?.close();
    await pair?.stop();
    await serverSide.close();
    await setup.close();
  }
}

/**
 * Before measuring, each path is shown to be what it claims. Under a STRICT PeerAuthentication on the
 * echo workload, direct and Weft answer (so they are mTLS) and the pair does not (its last hop is
 * plaintext, as a sidecar's hop to its app). The rounds then run under the mesh default, PERMISSIVE,
 * which serves both on the one port. And the inbound sidecar refuses a TLS client without a certificate.
 */
async function checkPaths(setup: Awaited<ReturnType<typeof startMtlsEcho>>, send: Record<Variant, () => Promise<void>>, haproxy: string, inboundPort: number): Promise<void> {
  await setup.strict();
  try {
    await send.direct();
    await send.weft();
    const pairUnderStrict = await send.pair().then(() => 'answered', (e: Error) => e.message);
    if (pairUnderStrict === 'answered') throw new Error('sidecar bench: the pair was answered under STRICT, so its hop to the echo workload is not the plaintext hop it should be');
  } finally {
    await setup.permissive();
  }
  await send.pair();
  const noCert = new Pool(`https://127.0.0.1:${inboundPort}`, {
    connect: { ca: setup.tls.bundlePem, rejectUnauthorized: true, checkServerIdentity: () => undefined, timeout: 5000 },
    headersTimeout: 5000,
    bodyTimeout: 5000,
  });
  try {
    const answer = await noCert.request({ path: '/', method: 'GET' }).then((r) => `HTTP ${r.statusCode}`, () => undefined);
    if (answer) throw new Error(`sidecar bench: ${haproxy}'s inbound sidecar answered a client without a certificate (${answer}); it must require one`);
  } finally {
    await noCert.destroy();
  }
}

async function expect200(who: string, r: { statusCode: number; body: { text(): Promise<string> } }): Promise<void> {
  const body = await r.body.text();
  if (r.statusCode !== 200) throw new Error(`${who}: HTTP ${r.statusCode} ${body.slice(0, 200)}`);
}

/** A process's user + system CPU time in µs, from /proc (Linux; 0 elsewhere, and the CPU figures are then the client's only). */
function processCpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of proc(5), utime and stime, counted from field 3 (state) here.
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTicks();
  } catch {
    return 0;
  }
}

let ticks: number | undefined;
function clockTicks(): number {
  ticks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
  return ticks;
}

/** Throughput over all rounds; p50 and p99 of the median round, so one noisy round does not decide them. */
function merge(rs: LoadResult[]): LoadResult {
  const requests = rs.reduce((s, r) => s + r.requests, 0);
  const seconds = rs.reduce((s, r) => s + r.seconds, 0);
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { requests, seconds, errors: rs.reduce((s, r) => s + r.errors, 0), rps: requests / seconds, p50: mid(rs.map((r) => r.p50)), p99: mid(rs.map((r) => r.p99)) };
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
