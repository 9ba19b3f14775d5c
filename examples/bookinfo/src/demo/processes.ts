// The demo's child processes: spawned with piped output, waited on for a line they print, and all
// stopped together (SIGTERM, then SIGKILL after a grace) however the demo ends.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Child {
  name: string;
  proc: ChildProcess;
  /** The last lines it printed (stdout and stderr), for error reports. */
  tail(): string;
  /** Resolves with the first match of `pattern` in its output; rejects if it exits first or after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
}

const TAIL_CHARS = 4_000;

export class ChildGroup {
  private readonly children: Child[] = [];
  private stopping: Promise<void> | undefined;
  /** Called when a child exits while the group is not stopping (a crash). */
  onUnexpectedExit: (child: Child, code: number | null, signal: NodeJS.Signals | null) => void = () => undefined;

  constructor() {
    // Last resort: whatever way this process exits, no child outlives it.
    process.once('exit', () => {
      for (const c of this.children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    });
  }

  spawn(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let output = '';
    const waiters = new Set<() => void>();
    const onData = (d: Buffer) => {
      output = (output + d.toString()).slice(-TAIL_CHARS);
      for (const w of waiters) w();
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    const child: Child = {
      name,
      proc,
      tail: () => output.trimEnd(),
      waitFor: (pattern, timeoutMs) =>
        new Promise((resolve, reject) => {
          const check = () => {
            const m = pattern.exec(output);
            if (m) return done(() => resolve(m));
            if (proc.exitCode !== null || proc.signalCode !== null) {
              done(() => reject(new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}) before printing ${pattern}:\n${output.trimEnd()}`)));
            }
          };
          const timer = setTimeout(() => done(() => reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${output.trimEnd()}`))), timeoutMs);
          const done = (settle: () => void) => {
            clearTimeout(timer);
            waiters.delete(check);
            proc.off('exit', check);
            settle();
          };
          waiters.add(check);
          proc.on('exit', check);
          check();
        }),
    };
    proc.on('exit', (code, signal) => {
      if (!this.stopping) this.onUnexpectedExit(child, code, signal);
    });
    this.children.push(child);
    return child;
  }

  /** Stops the children in reverse start order groups: `first` are stopped before the rest (e.g. workloads before weftd). */
  stopAll(first: (c: Child) => boolean = () => false, graceMs = 5_000): Promise<void> {
    this.stopping ??= (async () => {
      const early = this.children.filter(first);
      const late = this.children.filter((c) => !first(c));
      await Promise.all(early.map((c) => stop(c.proc, graceMs)));
      await Promise.all(late.map((c) => stop(c.proc, graceMs)));
    })();
    return this.stopping;
  }
}

async function stop(proc: ChildProcess, graceMs: number): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
