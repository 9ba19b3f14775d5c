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
import type { BalancerOptions, Picker } from './balancer.js';
import type { Endpoint } from './endpoint.js';

/** The estimate of an endpoint not heard from yet (linkerd2-proxy's default RTT). */
export const DEFAULT_RTT_MS = 30;
/** The decay period of the average (Finagle's and linkerd2-proxy's 10 s). */
export const DECAY_MS = 10_000;

interface Estimate {
  rttMs: number;
  at: number;
}

/** Per endpoint object: the estimate outlives picker rebuilds (every config or endpoint push) and is shared by clusters. */
const estimates = new WeakMap<Endpoint, Estimate>();

function estimateOf(ep: Endpoint, now: number): Estimate {
  let e = estimates.get(ep);
  if (e === undefined) {
    e = { rttMs: DEFAULT_RTT_MS, at: now };
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

/** The endpoint's cost now: its estimate decayed since the last update, times its load. */
export function peakEwmaCost(ep: Endpoint, now: number): number {
  return update(estimateOf(ep, now), 0, now) * (ep.outstanding + 1);
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
    return peakEwmaCost(b, t) < peakEwmaCost(a, t) ? b : a;
  }

  observe(endpoint: Endpoint, latencyMs: number): void {
    const t = this.now();
    update(estimateOf(endpoint, t), latencyMs, t);
  }
}

export const peakEwma = (endpoints: readonly Endpoint[], options?: BalancerOptions): Picker => new PeakEwmaPicker(endpoints, options?.now);
