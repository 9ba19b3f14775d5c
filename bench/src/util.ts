// Shared pieces of the benchmarks: starting weftd, percentiles, closed-loop load.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, fetch as undiciFetch, type RequestInit } from 'undici';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEFTD = fileURLToPath(new URL('../../packages/registry/bin/weftd.js', import.meta.url));

export interface Daemon {
  grpc: string;
  /** https://host:port of the admin API; adminFetch finds its credential. */
  admin: string;
  /** <data-dir>/ca.pem: createMesh's caFile (WEFT_CA_FILE) for a mesh without a token. */
  caFile: string;
  stop(): Promise<void>;
}

/** The admin credential of each weftd a benchmark started, by admin URL. */
const credentials = new Map<string, { token: string; agent: Agent }>();

/** fetch to a benchmark weftd's admin API: HTTPS with the roots and the token of its admin.cred. */
export function adminFetch(url: string, init: RequestInit = {}): ReturnType<typeof undiciFetch> {
  const cred = credentials.get(new URL(url).origin);
  if (!cred) throw new Error(`no weftd started by this benchmark at ${url}`);
  return undiciFetch(url, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${cred.token}` }, dispatcher: cred.agent });
}

/** A join token for (bench, serviceAccount): what a benchmark workload that serves needs. */
export async function createToken(admin: string, serviceAccount: string): Promise<string> {
  const res = await adminFetch(`${admin}/v1/tokens`, { method: 'POST', body: JSON.stringify({ namespace: 'bench', serviceAccount, ttl: '1h' }) });
  if (!res.ok) throw new Error(`POST /v1/tokens: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

export async function startDaemon(): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
  const proc = spawn(process.execPath, [...process.execArgv, WEFTD, '--data-dir', dir, '--port', '0', '--admin-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline && !/admin API listening on/.test(out)) {
    if (proc.exitCode !== null) break;
    await sleep(20);
  }
  const grpc = /control plane listening on (\S+:\d+)/.exec(out)?.[1];
  const admin = /admin API listening on (https:\/\/\S+:\d+)/.exec(out)?.[1];
  if (!grpc || !admin) {
    proc.kill('SIGKILL');
    throw new Error(`weftd did not start: ${out}`);
  }
  const cred = JSON.parse(readFileSync(join(dir, 'admin.cred'), 'utf8')) as { token: string; caPem: string };
  credentials.set(new URL(admin).origin, { token: cred.token, agent: new Agent({ connect: { ca: cred.caPem, checkServerIdentity: () => undefined } }) });
  return { grpc, admin, caFile: join(dir, 'ca.pem'), stop: () => stopChild(proc).then(() => rmSync(dir, { recursive: true, force: true })) };
}

/** Sends `signal` (none: the caller already asked it to stop), waits up to 5 s, then SIGKILL. */
export function stopChild(proc: ChildProcess, signal: NodeJS.Signals | null = 'SIGTERM'): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    if (signal) proc.kill(signal);
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
}

/**
 * Closed-loop load: `concurrency` workers each send one request at a time for `ms` milliseconds.
 * Latencies are recorded in microseconds-resolution milliseconds.
 */
export async function closedLoop(send: () => Promise<void>, concurrency: number, ms: number): Promise<LoadResult> {
  const lat: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + ms;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await send();
        lat.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  return { requests: lat.length, errors, seconds, rps: lat.length / seconds, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

export async function applyYaml(admin: string, yaml: string): Promise<number> {
  const res = await adminFetch(`${admin}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: yaml });
  const body = (await res.json()) as { revision?: number; error?: string };
  if (res.status !== 200 || typeof body.revision !== 'number') throw new Error(`apply failed: ${res.status} ${JSON.stringify(body)}`);
  return body.revision;
}
