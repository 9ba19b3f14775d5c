// Attempts and retries in flight to one cluster (host and subset), and Istio's DestinationRule caps on
// concurrent retries checked against them, as Envoy's cluster circuit breakers do:
// - trafficPolicy.retryBudget: retries in flight may be `percent` % of the active requests (Envoy counts
//   active and pending requests: here, attempts in flight), never fewer than minRetryConcurrency; with a
//   budgetInterval, the requests started within that interval count instead of the active ones;
// - otherwise connectionPool.http.maxRetries: at most that many retries in flight (unlimited by default).
// A retry is in flight from its start until its response headers or its failure.
import type { RetryLimits } from '../config/route-policy.js';

const SLOTS = 10;

export class ClusterRetryState {
  /** Attempts (first ones and retries) in flight. */
  active = 0;
  /** Retries in flight. */
  activeRetries = 0;
  private window: { slotMs: number; counts: Float64Array; total: number; epoch: number } | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** Counts a started attempt for a budget with an interval. */
  recordStart(limits: RetryLimits): void {
    const intervalMs = limits.budget?.intervalMs ?? 0;
    if (intervalMs <= 0) return;
    const w = this.windowFor(intervalMs);
    w.counts[this.advance(w)]! += 1;
    w.total += 1;
  }

  /** True when one more retry may start under `limits`. */
  mayRetry(limits: RetryLimits): boolean {
    const b = limits.budget;
    if (b === undefined) return this.activeRetries < limits.maxRetries;
    let requests = this.active;
    if (b.intervalMs > 0) {
      const w = this.windowFor(b.intervalMs);
      this.advance(w);
      requests = w.total;
    }
    return this.activeRetries < Math.max((b.percent / 100) * requests, b.minRetryConcurrency);
  }

  private windowFor(intervalMs: number): NonNullable<ClusterRetryState['window']> {
    const slotMs = Math.max(1, intervalMs / SLOTS);
    if (this.window === undefined || this.window.slotMs !== slotMs) {
      this.window = { slotMs, counts: new Float64Array(SLOTS), total: 0, epoch: Math.floor(this.now() / slotMs) };
    }
    return this.window;
  }

  private advance(w: NonNullable<ClusterRetryState['window']>): number {
    const epoch = Math.floor(this.now() / w.slotMs);
    const gap = Math.min(SLOTS, epoch - w.epoch);
    for (let k = 1; k <= gap; k++) {
      const i = (w.epoch + k) % SLOTS;
      w.total -= w.counts[i]!;
      w.counts[i] = 0;
    }
    if (gap > 0) w.epoch = epoch;
    return w.epoch % SLOTS;
  }
}
