// LEAST_REQUEST as Envoy does it for equal weights: the power of two choices. Pick two distinct
// endpoints at random and take the one with fewer outstanding requests (a tie is settled by the first
// draw, which is itself random). O(1) per pick, and it steers away from slow endpoints because their
// requests stay outstanding longer.
import type { Endpoint } from './endpoint.js';
import type { BalancerOptions, Picker } from './balancer.js';
import { WarmingLeastRequestPicker } from './slow-start.js';

export class LeastRequestPicker implements Picker {
  constructor(private readonly endpoints: readonly Endpoint[]) {}

  pick(): Endpoint | undefined {
    const list = this.endpoints;
    const n = list.length;
    if (n <= 1) return list[0];
    const i = Math.floor(Math.random() * n);
    // j is drawn from the other n-1 endpoints so the two choices are always distinct.
    let j = Math.floor(Math.random() * (n - 1));
    if (j >= i) j++;
    const a = list[i]!;
    const b = list[j]!;
    return b.outstanding < a.outstanding ? b : a;
  }
}

/** With loadBalancer.warmup, new endpoints ramp up (slow-start.ts). */
export const leastRequest = (endpoints: readonly Endpoint[], options?: BalancerOptions): Picker => {
  const warmup = options?.loadBalancing?.warmup;
  return warmup ? new WarmingLeastRequestPicker(endpoints, warmup, options?.now ?? performanceNow) : new LeastRequestPicker(endpoints);
};

const performanceNow = (): number => performance.now();
