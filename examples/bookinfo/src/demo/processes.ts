// The demo's child processes: spawned with piped output, waited on for a line they print, started
// again in place after they die (respawn), and all stopped together (SIGTERM, then SIGKILL after a
// grace) however the demo ends.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Child {
  readonly name: string;
  /** The current process: a new one after each respawn. */
  readonly proc: ChildProcess;
  /** When the current process was started (Date.now()). */
  readonly startedAt: number;
  /** The last lines the current process printed (stdout and stderr), for error reports. */
  tail(): string;
  /** Resolves with the first match of `pattern` in the current process's output; rejects if it exits first or after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
}

const TAIL_CHARS = 4_000;

class ManagedChild implements Child {
  proc!: ChildProcess;
  startedAt = 0;
  private output = '';
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly name: string,
    public args: string[],
    public env: NodeJS.ProcessEnv,
    private readonly onExit: (child: ManagedChild, code: number | null, signal: NodeJS.Signals | null) => void,
  ) {}

  start(): void {
    const proc = spawn(process.execPath, this.args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.env } });
    this.proc = proc;
    this.startedAt = Date.now();
    this.output = '';
    const onData = (d: Buffer) => {
      if (this.proc !== proc) return;
      this.output = (this.output + d.toString()).slice(-TAIL_CHARS);
      for (const w of this.waiters) w();
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code, signal) => {
      if (this.proc === proc) this.onExit(this, code, signal);
    });
  }

  tail(): string {
    return this.output.trimEnd();
  }

  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const proc = this.proc;
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(this.output);
        if (m && this.proc === proc) return done(() => resolve(m));
        if (proc.exitCode !== null || proc.signalCode !== null || this.proc !== proc) {
          done(() => reject(new Error(`${this.name} exited (${proc.exitCode ?? proc.signalCode}) before printing ${pattern}:\n${this.tail()}`)));
        }
      };
      const timer = setTimeout(() => done(() => reject(new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms:\n${this.tail()}`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        proc.off('exit', check);
        settle();
      };
      this.waiters.add(check);
      proc.on('exit', check);
      check();
    });
  }
}

export class ChildGroup {
  private readonly children: ManagedChild[] = [];
  private stopping: Promise<void> | undefined;
  /** Called when a child exits while the group is not stopping (a crash, or someone's `kill`). */
  onUnexpectedExit: (child: Child, code: number | null, signal: NodeJS.Signals | null) => void = () => undefined;

  constructor() {
    // Last resort: whatever way this process exits, no child outlives it.
    process.once('exit', () => {
      for (const c of this.children) if (isRunning(c.proc)) c.proc.kill('SIGKILL');
    });
  }

  spawn(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
    const child = new ManagedChild(name, args, env, (c, code, signal) => {
      if (!this.stopping) this.onUnexpectedExit(c, code, signal);
    });
    child.start();
    this.children.push(child);
    return child;
  }

  /**
   * Starts a child of this group again, with `args` if given (e.g. the port it had, so its address
   * stays the same) and `env` over the environment it had (e.g. a fresh join token). Does nothing once
   * the group is stopping, or while its process still runs.
   */
  respawn(child: Child, args?: string[], env?: NodeJS.ProcessEnv): boolean {
    const managed = this.children.find((c) => c === child);
    if (!managed) throw new Error(`respawn: ${child.name} is not a child of this group`);
    if (this.stopping || isRunning(managed.proc)) return false;
    if (args) managed.args = args;
    if (env) managed.env = { ...managed.env, ...env };
    managed.start();
    return true;
  }

  /** Stops the children in two groups: `first` are stopped before the rest (e.g. workloads before weftd). */
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

function isRunning(proc: ChildProcess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

async function stop(proc: ChildProcess, graceMs: number): Promise<void> {
  if (!isRunning(proc)) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
