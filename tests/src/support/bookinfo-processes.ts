// Bookinfo workloads as separate processes (examples/bookinfo/dist/workload.js), as the demo runs them:
// each with its own join token for bookinfo-<service>, its control plane and any test hook (such as
// RATINGS_FAULTY_PERCENT) in its environment, ready once it prints its listening line. Every process
// started here is tracked, and stopAll() (SIGKILL after a grace) leaves none behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bookinfoToken } from './bookinfo.js';
import type { WeftdHandle } from './weftd.js';

export const WORKLOAD_BIN = fileURLToPath(new URL('../../../examples/bookinfo/dist/workload.js', import.meta.url));

const READY = /listening on (http:\/\/\S+) as (spiffe:\/\/\S+)/;
const OUTPUT_CHARS = 20_000;

export interface WorkloadProcess {
  /** `<service>-<version>-<n>`, also its HOSTNAME (reviews' podname). */
  name: string;
  proc: ChildProcess;
  url: string;
  /** The last OUTPUT_CHARS it printed (stdout and stderr). */
  output(): string;
  /** Sends the signal and waits until it has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export class WorkloadProcesses {
  private readonly all: WorkloadProcess[] = [];

  /** Starts `workload.js <service> --version <version>` and resolves once it listens (within timeoutMs). */
  async start(weftd: WeftdHandle, service: string, version: string, name: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<WorkloadProcess> {
    const token = await bookinfoToken(weftd, service);
    const proc = spawn(process.execPath, [WORKLOAD_BIN, service, '--version', version], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WEFT_CONTROL_PLANE: weftd.grpcAddress, WEFT_TOKEN: token, HOSTNAME: name, ...env },
    });
    let out = '';
    const onData = (d: Buffer) => (out = (out + d.toString()).slice(-OUTPUT_CHARS));
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const kill = async (signal: NodeJS.Signals) => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    };
    const w: WorkloadProcess = { name, proc, url: '', output: () => out, kill };
    this.all.push(w);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = READY.exec(out);
      if (m) return Object.assign(w, { url: m[1]! });
      if (proc.exitCode !== null || proc.signalCode !== null || Date.now() > deadline) {
        await kill('SIGKILL');
        throw new Error(`${name} did not start (${proc.exitCode ?? proc.signalCode ?? `no ready line within ${timeoutMs} ms`}):\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** SIGTERM to every process still running, SIGKILL to those not gone after graceMs; resolves when all have exited. */
  async stopAll(graceMs = 3_000): Promise<void> {
    await Promise.all(
      this.all.map(async (w) => {
        const timer = setTimeout(() => w.proc.kill('SIGKILL'), graceMs);
        await w.kill('SIGTERM');
        clearTimeout(timer);
      }),
    );
  }
}
