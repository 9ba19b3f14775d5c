// PEAK_EWMA: latency-aware balancing as Finagle and Linkerd do it, a Weft extension to Istio's
// loadBalancer.simple (Istio's own validator refuses the name). Each endpoint carries an estimate of its
// response time that jumps to any slower observation at once (the peak) and otherwise moves toward new
// observations as an exponentially weighted average with a 10 s decay (tower's PeakEwma, which
// linkerd2-proxy uses); while an endpoint is not heard from, its estimate decays toward zero, so a once
// slow endpoint is tried again after a while. A pick draws two endpoints at random and takes the one of
// lower cost = estimate × (outstanding requests + 1): a slow endpoint's requests pile up and its
// estimate rises, so it stops being chosen within a few requests.
// The time observed is from sending to the response headers, or to the failure (a timeout counts as
// the time waited), as tower measures it.
// One addition to tower's rule: an endpoint that has requests outstanding and has not answered for
// longer than its estimate costs that time instead (its requests have waited at least that long). Without
// it, an endpoint that turns slow keeps its old, low estimate until its first slow answer arrives, and on
// a busy host the peaks of the fast endpoints (a GC pause, a late timer) outweigh its pile of waiting
// requests for a while: in the lb.slow_backend benchmark tower's rule kept 98.7-99.9 % of the requests
// within the 1 s timeout from run to run, this one 99.94 % (docs/performance.md).
import type { BalancerOptions, Picker } from './balancer.js';
import type { Endpoint } from './endpoint.js';

/** The estimate of an endpoint not heard from yet (linkerd2-proxy's default RTT). */
export const DEFAULT_RTT_MS = 30;
/** The decay period of the average (Finagle's and linkerd2-proxy's 10 s). */
export const DECAY_MS = 10_000;

interface Estimate {
  rttMs: number;
  at: number;
  /** When it last answered (observe), and when it last went from idle to busy (a pick while it had nothing outstanding). */
  answeredAt: number;
  busySince: number;
}

/** Per endpoint object: the estimate outlives picker rebuilds (every config or endpoint push) and is shared by clusters. */
const estimates = new WeakMap<Endpoint, Estimate>();

function estimateOf(ep: Endpoint, now: number): Estimate {
  let e = estimates.get(ep);
  if (e === undefined) {
    e = { rttMs: DEFAULT_RTT_MS, at: now, answeredAt: now, busySince: now };
    estimates.set(ep, e);
  }
  return e;
}

/** tower's RttEstimate::update: a peak replaces the estimate, a lower value is averaged in by recency. */
function update(e: Estimate, rttMs: number, now: number): number {
  const elapsed = Math.max(0, now - e.at);
  if (rttMs > e.rttMs) e.rttMs = rttMs;
  else {
    const decay = Math.exp(-elapsed / DECAY_MS);
    e.rttMs = e.rttMs * decay + rttMs * (1 - decay);
  }
  e.at = now;
  return e.rttMs;
}

/**
 * The endpoint's cost now: its estimate decayed since the last update (or, while it has requests
 * outstanding, the time since it last answered or last became busy, when that is longer), times its load.
 */
export function peakEwmaCost(ep: Endpoint, now: number): number {
  const e = estimateOf(ep, now);
  const rtt = update(e, 0, now);
  if (ep.outstanding === 0) return rtt;
  const stalled = now - Math.max(e.answeredAt, e.busySince);
  return Math.max(rtt, stalled) * (ep.outstanding + 1);
}

export class PeakEwmaPicker implements Picker {
  constructor(
    private readonly endpoints: readonly Endpoint[],
    private readonly now: () => number = () => performance.now(),
  ) {}

  pick(): Endpoint | undefined {
    const list = this.endpoints;
    const n = list.length;
    if (n <= 1) return list[0];
    const i = Math.floor(Math.random() * n);
    let j = Math.floor(Math.random() * (n - 1));
    if (j >= i) j++;
    const t = this.now();
    const a = list[i]!;
    const b = list[j]!;
    const chosen = peakEwmaCost(b, t) < peakEwmaCost(a, t) ? b : a;
    if (chosen.outstanding === 0) estimateOf(chosen, t).busySince = t;
    return chosen;
  }

  observe(endpoint: Endpoint, latencyMs: number): void {
    const t = this.now();
    const e = estimateOf(endpoint, t);
    update(e, latencyMs, t);
    e.answeredAt = t;
  }
}

export const peakEwma = (endpoints: readonly Endpoint[], options?: BalancerOptions): Picker => new PeakEwmaPicker(endpoints, options?.now);
