// ROUND_ROBIN: strict rotation over the list. The start is random so that many clients that got the
// same list at the same moment do not all hit its first endpoint together.
import type { Endpoint } from './endpoint.js';
import type { BalancerOptions, Picker } from './balancer.js';
import { WarmingRoundRobinPicker } from './slow-start.js';

export class RoundRobinPicker implements Picker {
  private next: number;

  constructor(private readonly endpoints: readonly Endpoint[]) {
    this.next = Math.floor(Math.random() * endpoints.length);
  }

  pick(): Endpoint | undefined {
    const n = this.endpoints.length;
    if (n === 0) return undefined;
    const e = this.endpoints[this.next]!;
    this.next = this.next + 1 === n ? 0 : this.next + 1;
    return e;
  }
}

/** With loadBalancer.warmup, new endpoints ramp up (slow-start.ts). */
export const roundRobin = (endpoints: readonly Endpoint[], options?: BalancerOptions): Picker => {
  const warmup = options?.loadBalancing?.warmup;
  return warmup ? new WarmingRoundRobinPicker(endpoints, warmup, options?.now ?? performanceNow) : new RoundRobinPicker(endpoints);
};

const performanceNow = (): number => performance.now();
