// Runs the real weftctl against a weftd this test process started (its credential found by
// weftctlTarget), and returns what it printed and its exit code, as a user's shell would see them.
import { execFile } from 'node:child_process';
import { WEFTCTL_BIN, weftctlTarget } from './weftd.js';

export interface WeftctlRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `weftctl --server … --credentials … ARGS` (stdin optional), given up on after `timeoutMs`. */
export function runWeftctl(adminUrlOrGrpcAddress: string, args: readonly string[], opts: { stdin?: string; cwd?: string; timeoutMs?: number } = {}): Promise<WeftctlRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [WEFTCTL_BIN, ...weftctlTarget(adminUrlOrGrpcAddress), ...args],
      { timeout: opts.timeoutMs ?? 15_000, ...(opts.cwd ? { cwd: opts.cwd } : {}) },
      (err, stdout, stderr) => resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0, stdout, stderr }),
    );
    if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  });
}
