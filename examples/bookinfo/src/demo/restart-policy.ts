// When the demo restarts a process that died: after a delay that doubles with each restart in a row,
// and not more than a few times in a row, so a workload that cannot start does not spin forever. A
// process that ran for a while before it died starts a new count: that was a new failure, not a loop.

export interface RestartPolicyOptions {
  /** Restarts in a row before giving up. */
  maxRestarts: number;
  /** Delay before the first restart; each next one in a row waits twice as long, up to maxDelayMs. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** A process that ran this long before it died starts a new count. */
  stableAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = { maxRestarts: 5, firstDelayMs: 1_000, maxDelayMs: 16_000, stableAfterMs: 30_000 };

export interface RestartPlan {
  delayMs: number;
  /** 1 for the first restart in a row. */
  attempt: number;
  maxRestarts: number;
}

export class RestartPolicy {
  private restartsInARow = 0;

  constructor(private readonly options: RestartPolicyOptions = DEFAULT_RESTART_POLICY) {
    for (const [name, value] of Object.entries(options)) {
      if (!Number.isInteger(value) || value < 0) throw new Error(`RestartPolicy: ${name} must be an integer >= 0, got ${String(value)}`);
    }
    if (options.maxDelayMs < options.firstDelayMs) {
      throw new Error(`RestartPolicy: maxDelayMs (${options.maxDelayMs}) must be >= firstDelayMs (${options.firstDelayMs})`);
    }
  }

  /** The restart after a process that ran for `ranForMs` died, or undefined to give up. */
  next(ranForMs: number): RestartPlan | undefined {
    if (ranForMs >= this.options.stableAfterMs) this.restartsInARow = 0;
    if (this.restartsInARow >= this.options.maxRestarts) return undefined;
    this.restartsInARow++;
    const delayMs = Math.min(this.options.firstDelayMs * 2 ** (this.restartsInARow - 1), this.options.maxDelayMs);
    return { delayMs, attempt: this.restartsInARow, maxRestarts: this.options.maxRestarts };
  }
}
