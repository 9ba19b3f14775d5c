// Starts a real weftd as a child process on 127.0.0.1 with ports 0 and a fresh data dir, and reads the
// addresses it prints. Every test that starts one stops it (stop(), or kill('SIGKILL') to crash it).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, Headers as UndiciHeaders, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEFTD_BIN = fileURLToPath(new URL('../../../packages/registry/bin/weftd.js', import.meta.url));
export const WEFTCTL_BIN = fileURLToPath(new URL('../../../packages/registry/bin/weftctl.js', import.meta.url));

export interface WeftdHandle {
  /** host:port of the gRPC session server (for createMesh's controlPlane). */
  grpcAddress: string;
  /** https://127.0.0.1:port of the admin API (for weftctl --server). */
  adminUrl: string;
  dataDir: string;
  /** <data-dir>/admin.cred: what weftctl --credentials and adminFetch use. */
  credentialsFile: string;
  /** <data-dir>/ca.pem: the trust bundle, for a mesh without a join token (createMesh caFile). */
  caFile: string;
  proc: ChildProcess;
  /** Everything the daemon printed so far. */
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** Send a signal (SIGKILL to crash it) and wait for exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface StartWeftdOptions {
  /** An existing data dir (kept by stop()); else a fresh one that stop() removes. */
  dataDir?: string;
  /** More flags; `--port N` / `--admin-port N` here replace the default 0 (to restart on the same ports). */
  args?: string[];
  timeoutMs?: number;
}

const GRPC_LINE = /control plane listening on (\S+:\d+)/;
const ADMIN_LINE = /admin API listening on (https:\/\/\S+:\d+)/;

/** Every weftd a test started, by admin origin and session address, so helpers can find its credential. */
const known = new Map<string, { dataDir: string; adminUrl: string }>();

/** Registers a weftd started some other way (a restart on the same data dir and ports, the demo). */
export function rememberWeftd(w: { grpcAddress?: string; adminUrl: string; dataDir: string }): void {
  known.set(new URL(w.adminUrl).origin, w);
  if (w.grpcAddress) known.set(w.grpcAddress, w);
}

function weftdOf(urlOrAddress: string): { dataDir: string; adminUrl: string } {
  const key = /^https?:/.test(urlOrAddress) ? new URL(urlOrAddress).origin : urlOrAddress;
  const found = known.get(key);
  if (!found) throw new Error(`no weftd started by this test process at ${urlOrAddress}`);
  return found;
}

const agents = new Map<string, Agent>();

/**
 * Every weftd this process started and that still runs. A test that failed before its cleanup would leave
 * one running after mocha exits (seen: weftds with ppid 1 hours later), so the test process kills what is
 * left when it exits.
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of running) proc.kill('SIGKILL');
});

/**
 * fetch against a weftd's admin API, as weftctl does it: TLS with the roots of its admin.cred (read at
 * each call: a rotation rewrites it) and the credential's token. `init.credential: false` leaves the
 * token out (to test the 401).
 */
export async function adminFetch(url: string, init: UndiciRequestInit & { credential?: boolean | string } = {}): ReturnType<typeof undiciFetch> {
  const { dataDir } = weftdOf(url);
  const cred = JSON.parse(readFileSync(join(dataDir, 'admin.cred'), 'utf8')) as { token: string; caPem: string };
  let agent = agents.get(cred.caPem);
  if (!agent) agents.set(cred.caPem, (agent = new Agent({ connect: { ca: cred.caPem, checkServerIdentity: () => undefined } })));
  const headers = new UndiciHeaders(init.headers);
  const token = init.credential === false ? undefined : typeof init.credential === 'string' ? init.credential : cred.token;
  if (token && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
  const { credential: _ignored, ...rest } = init;
  return undiciFetch(url, { ...rest, headers, dispatcher: agent });
}

/** `--server URL --credentials FILE`: what a test passes to weftctl for this weftd. */
export function weftctlTarget(urlOrAddress: string): string[] {
  const w = weftdOf(urlOrAddress);
  return ['--server', w.adminUrl, '--credentials', join(w.dataDir, 'admin.cred')];
}

/** A join token for (namespace, service account) from the weftd at `urlOrAddress` (admin URL or session address), by the admin API. */
export async function createToken(urlOrAddress: string, namespace: string, serviceAccount = 'default', ttl = '1h'): Promise<string> {
  const w = weftdOf(urlOrAddress);
  const res = await adminFetch(`${w.adminUrl}/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ namespace, serviceAccount, ttl }) });
  const body = (await res.json()) as { token?: string; error?: string };
  if (res.status !== 200 || !body.token) throw new Error(`POST /v1/tokens failed (${res.status}): ${body.error}`);
  return body.token;
}

/** <data-dir>/ca.pem of the weftd at `urlOrAddress`: createMesh's caFile for a mesh without a token. */
export function caFileOf(urlOrAddress: string): string {
  return join(weftdOf(urlOrAddress).dataDir, 'ca.pem');
}

export async function startWeftd(opts: StartWeftdOptions = {}): Promise<WeftdHandle> {
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'weftd-test-'));
  // Ports 0 (any free port) unless args name them (a restart on the ports it had).
  const anyPort = (flag: string) => (opts.args?.includes(flag) ? [] : [flag, '0']);
  const proc = spawn(process.execPath, [WEFTD_BIN, '--data-dir', dataDir, ...anyPort('--port'), ...anyPort('--admin-port'), ...(opts.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const deadline = Date.now() + (opts.timeoutMs ?? 15000);
  let grpcAddress: string | undefined;
  let adminUrl: string | undefined;
  while (Date.now() < deadline) {
    grpcAddress = GRPC_LINE.exec(out)?.[1];
    adminUrl = ADMIN_LINE.exec(out)?.[1];
    if (grpcAddress && adminUrl) break;
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!grpcAddress || !adminUrl) {
    proc.kill('SIGKILL');
    await exited;
    throw new Error(`weftd did not start:\n${out}`);
  }
  rememberWeftd({ grpcAddress, adminUrl, dataDir });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  const kill = async (signal: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return {
    grpcAddress,
    adminUrl,
    dataDir,
    credentialsFile: join(dataDir, 'admin.cred'),
    caFile: join(dataDir, 'ca.pem'),
    proc,
    output: () => out,
    kill,
    stop: async () => {
      await kill('SIGTERM');
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `weftctl token create` against this weftd: the join token for (namespace, service account). */
export function joinToken(weftd: WeftdHandle, namespace: string, serviceAccount: string, ttl = '1h'): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [WEFTCTL_BIN, ...weftctlTarget(weftd.adminUrl), 'token', 'create', '--namespace', namespace, '--service-account', serviceAccount, '--ttl', ttl],
      { timeout: 15_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`weftctl token create failed: ${stderr || err.message}`)) : resolve(stdout.trim())),
    );
  });
}
