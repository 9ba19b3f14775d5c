// Keeps the long-running demo going when one of its processes dies (`kill <pid>` is the first thing
// people try): it says which process died and how, restarts it after a short delay with backoff
// (restart-policy.ts), and says when it is back and under which pid.
import type { Child, ChildGroup } from './processes.js';
import { DEFAULT_RESTART_POLICY, RestartPolicy, type RestartPolicyOptions } from './restart-policy.js';

export interface Supervised {
  /** The line the process prints when it is ready again; its first group goes in the "is back" line. */
  ready: RegExp;
  /** Arguments for the restarted process (default: the same as before). */
  restartArgs?: string[];
  /** What the death means for the user (e.g. what the page shows meanwhile), appended to the report. */
  meanwhile?: string;
  /**
   * Environment for the restarted process over the one it had, made just before the restart (a fresh
   * join token, so a restart a day later does not meet an expired one). If it fails, the process
   * restarts with the environment it had.
   */
  freshEnv?: () => Promise<NodeJS.ProcessEnv>;
}

export interface SupervisorOptions {
  log: (line: string) => void;
  /** Called when a process died more often in a row than the policy allows: it stays down. */
  onGiveUp: (child: Child) => void;
  policy?: RestartPolicyOptions;
  readyTimeoutMs?: number;
}

const TAIL_LINES = 5;

/** "was killed by SIGKILL", "exited with code 1", "stopped (exit code 0)". */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `was killed by ${signal}`;
  return code === 0 ? 'stopped (exit code 0)' : `exited with code ${code}`;
}

export class Supervisor {
  private readonly watched = new Map<Child, { spec: Supervised; policy: RestartPolicy }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly group: ChildGroup,
    private readonly options: SupervisorOptions,
  ) {}

  watch(child: Child, spec: Supervised): void {
    this.watched.set(child, { spec, policy: new RestartPolicy(this.options.policy ?? DEFAULT_RESTART_POLICY) });
  }

  watches(child: Child): boolean {
    return this.watched.has(child);
  }

  /** The group's onUnexpectedExit for a watched child. */
  onExit(child: Child, code: number | null, signal: NodeJS.Signals | null): void {
    const entry = this.watched.get(child);
    if (!entry || this.stopped) return;
    const { log } = this.options;
    const pid = child.proc.pid;
    const ranFor = Date.now() - child.startedAt;
    const plan = entry.policy.next(ranFor);
    log(`!! ${child.name} (pid ${pid}) ${describeExit(code, signal)} after ${formatSeconds(ranFor)}.${entry.spec.meanwhile ? ` The page meanwhile: ${entry.spec.meanwhile}.` : ''}`);
    // A process that failed by itself (not a signal, not a clean stop) says why in its last lines.
    if (!signal && code !== 0 && child.tail()) {
      for (const line of child.tail().split('\n').slice(-TAIL_LINES)) log(`     | ${line}`);
    }
    if (!plan) {
      const { maxRestarts } = this.options.policy ?? DEFAULT_RESTART_POLICY;
      log(`!! ${child.name} died again after ${maxRestarts} restarts in a row; giving up on it.`);
      this.options.onGiveUp(child);
      return;
    }
    log(`   restarting ${child.name} in ${formatSeconds(plan.delayMs)} (restart ${plan.attempt} of at most ${plan.maxRestarts} in a row)`);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.restart(child, entry.spec).catch((e: unknown) => log(`!! could not restart ${child.name}: ${e instanceof Error ? e.message : String(e)}`));
    }, plan.delayMs);
    this.timers.add(timer);
  }

  private async restart(child: Child, spec: Supervised): Promise<void> {
    const { log } = this.options;
    let env: NodeJS.ProcessEnv | undefined;
    if (spec.freshEnv) {
      env = await spec.freshEnv().catch((e: unknown) => {
        log(`   (${child.name}: ${e instanceof Error ? e.message : String(e)}; restarting it with the environment it had)`);
        return undefined;
      });
    }
    if (this.stopped || !this.group.respawn(child, spec.restartArgs, env)) return;
    child.waitFor(spec.ready, this.options.readyTimeoutMs ?? 30_000).then(
      (m) => log(`   ${child.name} is back: pid ${child.proc.pid}${m[1] ? `, ${m[1]}` : ''}`),
      // If it died again, onExit reports that; a process that hangs instead is stopped, which counts as dying.
      () => {
        if (!this.stopped && child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
      },
    );
  }

  /** No more restarts: the demo is ending. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
