// Slow start (DestinationRule loadBalancer.warmup, Envoy's slow_start_config) for ROUND_ROBIN and
// LEAST_REQUEST. An endpoint that joined the view less than `duration` ago has its weight scaled by
//   max(minimumPercent / 100, (max(age, 1 ms) / duration) ^ (1 / aggression))
// as Envoy computes it. Every endpoint of the first list ramps together (Envoy starts its hosts' window
// when the cluster is built, too), so the ramp only matters for endpoints that join later.
// While no endpoint is in its window the pickers take their unweighted fast path. ROUND_ROBIN becomes
// a smooth weighted rotation (nginx's; Envoy uses an EDF schedule to the same effect); LEAST_REQUEST
// stays power-of-two-choices, comparing (outstanding + 1) / weight: Envoy's weighted least request with
// its default active_request_bias of 1.
import type { WarmupSettings } from '../config/traffic-policy.js';
import type { Picker } from './balancer.js';
import type { Endpoint } from './endpoint.js';
import { LeastRequestPicker } from './least-request.js';
import { RoundRobinPicker } from './round-robin.js';

/** The weight factor of `ep` at `now` (1 once its window is over). */
export function slowStartFactor(ep: Endpoint, warmup: WarmupSettings, now: number): number {
  if (ep.addedAt === undefined) return 1;
  const age = now - ep.addedAt;
  if (age >= warmup.durationMs) return 1;
  const time = Math.max(1, age) / warmup.durationMs;
  const ramp = warmup.aggression === 1 ? time : Math.pow(time, 1 / warmup.aggression);
  return Math.max(ramp, warmup.minimumFraction);
}

/** The moment the last endpoint of `endpoints` leaves its window. */
function windowEnd(endpoints: readonly Endpoint[], warmup: WarmupSettings): number {
  let end = -Infinity;
  for (const e of endpoints) if (e.addedAt !== undefined) end = Math.max(end, e.addedAt + warmup.durationMs);
  return end;
}

export class WarmingRoundRobinPicker implements Picker {
  private readonly plain: RoundRobinPicker;
  private readonly until: number;
  private readonly current: Float64Array;

  constructor(
    private readonly endpoints: readonly Endpoint[],
    private readonly warmup: WarmupSettings,
    private readonly now: () => number,
  ) {
    this.plain = new RoundRobinPicker(endpoints);
    this.until = windowEnd(endpoints, warmup);
    this.current = new Float64Array(endpoints.length);
  }

  pick(): Endpoint | undefined {
    const t = this.now();
    const n = this.endpoints.length;
    if (t >= this.until || n <= 1) return this.plain.pick();
    let total = 0;
    let best = 0;
    for (let i = 0; i < n; i++) {
      const w = slowStartFactor(this.endpoints[i]!, this.warmup, t);
      this.current[i]! += w;
      total += w;
      if (this.current[i]! > this.current[best]!) best = i;
    }
    this.current[best]! -= total;
    return this.endpoints[best];
  }
}

export class WarmingLeastRequestPicker implements Picker {
  private readonly plain: LeastRequestPicker;
  private readonly until: number;

  constructor(
    private readonly endpoints: readonly Endpoint[],
    private readonly warmup: WarmupSettings,
    private readonly now: () => number,
  ) {
    this.plain = new LeastRequestPicker(endpoints);
    this.until = windowEnd(endpoints, warmup);
  }

  pick(): Endpoint | undefined {
    const t = this.now();
    const list = this.endpoints;
    const n = list.length;
    if (t >= this.until || n <= 1) return this.plain.pick();
    const i = Math.floor(Math.random() * n);
    let j = Math.floor(Math.random() * (n - 1));
    if (j >= i) j++;
    const a = list[i]!;
    const b = list[j]!;
    const costA = (a.outstanding + 1) / slowStartFactor(a, this.warmup, t);
    const costB = (b.outstanding + 1) / slowStartFactor(b, this.warmup, t);
    return costB < costA ? b : a;
  }
}
