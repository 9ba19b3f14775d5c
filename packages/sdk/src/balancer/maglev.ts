// Consistent hashing with Maglev (DestinationRule consistentHash with maglev; Envoy's MAGLEV): a lookup
// table of `tableSize` (a prime) slots filled from each endpoint's own permutation of the slots, turn by
// turn, so every endpoint owns an equal share (within one slot) and a change of endpoints moves about
// 1/n of the slots (Eisenbud et al., NSDI 2016). A pick is one table read. A retry that must avoid
// endpoints walks on through the table to the next slot it may use.
import type { BalancerOptions, PickContext, Picker } from './balancer.js';
import type { Endpoint } from './endpoint.js';
import { hashString, randomHash } from './hash.js';

export class MaglevPicker implements Picker {
  private readonly table: Int32Array;
  /** By name: the table must not depend on the order weftd listed the endpoints in. */
  private readonly endpoints: readonly Endpoint[];

  constructor(endpoints: readonly Endpoint[], tableSize: number) {
    this.endpoints = [...endpoints].sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0));
    endpoints = this.endpoints;
    const n = endpoints.length;
    const m = tableSize;
    this.table = new Int32Array(n === 0 ? 0 : m).fill(-1);
    if (n === 0) return;
    const offset = new Float64Array(n);
    const skip = new Float64Array(n);
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const name = nameOf(endpoints[i]!);
      offset[i] = hashString(name, 0x5bd1e995) % m;
      skip[i] = (hashString(name, 0x27d4eb2d) % (m - 1)) + 1;
    }
    let filled = 0;
    while (filled < m) {
      for (let i = 0; i < n && filled < m; i++) {
        // The endpoint's next preferred slot that is still free.
        let slot = (offset[i]! + next[i]! * skip[i]!) % m;
        while (this.table[slot] !== -1) {
          next[i]!++;
          slot = (offset[i]! + next[i]! * skip[i]!) % m;
        }
        this.table[slot] = i;
        next[i]!++;
        filled++;
      }
    }
  }

  pick(ctx?: PickContext): Endpoint | undefined {
    const m = this.table.length;
    if (m === 0) return undefined;
    const slot = (ctx?.hash ?? randomHash()) % m;
    const avoid = ctx?.avoid;
    if (avoid === undefined || avoid.size === 0) return this.endpoints[this.table[slot]!];
    for (let step = 0; step < m; step++) {
      const e = this.endpoints[this.table[(slot + step) % m]!]!;
      if (!avoid.has(e)) return e;
    }
    return this.endpoints[this.table[slot]!];
  }
}

function nameOf(e: Endpoint): string {
  return `${e.address}:${e.port}`;
}

export const maglev = (endpoints: readonly Endpoint[], options?: BalancerOptions): Picker =>
  new MaglevPicker(endpoints, options?.loadBalancing?.consistentHash?.tableSize ?? 65537);
