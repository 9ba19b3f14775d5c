// Starts a real weftd as a child process on 127.0.0.1 with ports 0 and a fresh data dir, and reads the
// addresses it prints. Every test that starts one stops it (stop(), or kill('SIGKILL') to crash it).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEFTD_BIN = fileURLToPath(new URL('../../../packages/registry/bin/weftd.js', import.meta.url));
export const WEFTCTL_BIN = fileURLToPath(new URL('../../../packages/registry/bin/weftctl.js', import.meta.url));

export interface WeftdHandle {
  /** host:port of the gRPC session server (for createMesh's controlPlane). */
  grpcAddress: string;
  /** http://127.0.0.1:port of the admin API (for weftctl --server). */
  adminUrl: string;
  dataDir: string;
  proc: ChildProcess;
  /** Everything the daemon printed so far. */
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** Send a signal (SIGKILL to crash it) and wait for exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface StartWeftdOptions {
  dataDir?: string;
  args?: string[];
  timeoutMs?: number;
}

const GRPC_LINE = /control plane listening on (\S+:\d+)/;
const ADMIN_LINE = /admin API listening on (http:\/\/\S+:\d+)/;

export async function startWeftd(opts: StartWeftdOptions = {}): Promise<WeftdHandle> {
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'weftd-test-'));
  const proc = spawn(process.execPath, [WEFTD_BIN, '--data-dir', dataDir, '--port', '0', '--admin-port', '0', ...(opts.args ?? [])], {
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
  const kill = async (signal: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return {
    grpcAddress,
    adminUrl,
    dataDir,
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
      [WEFTCTL_BIN, '--server', weftd.adminUrl, 'token', 'create', '--namespace', namespace, '--service-account', serviceAccount, '--ttl', ttl],
      { timeout: 15_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`weftctl token create failed: ${stderr || err.message}`)) : resolve(stdout.trim())),
    );
  });
}
