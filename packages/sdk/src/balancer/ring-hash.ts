// Consistent hashing on a ring (DestinationRule consistentHash with ringHash, Istio's default
// algorithm; Envoy's RING_HASH). Each endpoint is hashed onto the ring minimumRingSize times
// (`address:port_i`, as Envoy names its entries); a request's hash picks the first entry at or after
// it. The same key reaches the same endpoint while the endpoints stay, and when one joins or leaves,
// only the keys of the arcs it takes or gives up move: about 1/n of them.
// Envoy divides minimumRingSize among the endpoints instead (ceil(size / n) entries each), so a join or
// a leave also adds or removes entries of every other endpoint and moves a further ~10 % of the keys
// between them; giving each endpoint the same entries whatever n is keeps the move at ~1/n. The ring is
// larger (n × minimumRingSize, at most Envoy's maximum of 8M entries) and never smaller than Envoy's.
// A retry that must avoid endpoints walks on along the ring to the next one it may use.
import type { BalancerOptions, PickContext, Picker } from './balancer.js';
import type { Endpoint } from './endpoint.js';
import { hashString, randomHash } from './hash.js';

/** Envoy's maximum_ring_size default: the ring never grows past it. */
const MAX_RING_SIZE = 8 * 1024 * 1024;

export class RingHashPicker implements Picker {
  /** Sorted ring positions, and the endpoint index at each. */
  private readonly positions: Uint32Array;
  private readonly owners: Uint32Array;

  constructor(
    private readonly endpoints: readonly Endpoint[],
    minimumRingSize: number,
  ) {
    const n = endpoints.length;
    const perEndpoint = n === 0 ? 0 : Math.max(1, Math.min(minimumRingSize, Math.floor(MAX_RING_SIZE / n)));
    const size = n * perEndpoint;
    const entries = new Float64Array(size);
    // Position in the high 32 bits, owner in the low ones: one numeric sort orders both.
    let k = 0;
    for (let i = 0; i < n; i++) {
      const positions = positionsOf(endpoints[i]!, perEndpoint);
      for (let r = 0; r < perEndpoint; r++) entries[k++] = positions[r]! * 0x100000 + i;
    }
    entries.sort();
    this.positions = new Uint32Array(size);
    this.owners = new Uint32Array(size);
    for (let j = 0; j < size; j++) {
      this.positions[j] = Math.floor(entries[j]! / 0x100000);
      this.owners[j] = entries[j]! % 0x100000;
    }
  }

  pick(ctx?: PickContext): Endpoint | undefined {
    const size = this.positions.length;
    if (size === 0) return undefined;
    const h = ctx?.hash ?? randomHash();
    // First entry whose position is >= h (wrapping to 0).
    let lo = 0;
    let hi = size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.positions[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    const start = lo === size ? 0 : lo;
    const avoid = ctx?.avoid;
    if (avoid === undefined || avoid.size === 0) return this.endpoints[this.owners[start]!];
    for (let step = 0; step < size; step++) {
      const e = this.endpoints[this.owners[(start + step) % size]!]!;
      if (!avoid.has(e)) return e;
    }
    return this.endpoints[this.owners[start]!];
  }
}

/** An endpoint's ring positions, kept while it and the ring size stay: a rebuild (a push, an ejection) only sorts. */
const positionCache = new WeakMap<Endpoint, Uint32Array>();

function positionsOf(ep: Endpoint, count: number): Uint32Array {
  const cached = positionCache.get(ep);
  if (cached !== undefined && cached.length === count) return cached;
  const name = `${ep.address}:${ep.port}_`;
  const positions = new Uint32Array(count);
  for (let r = 0; r < count; r++) positions[r] = hashString(name + r);
  positionCache.set(ep, positions);
  return positions;
}

export const ringHash = (endpoints: readonly Endpoint[], options?: BalancerOptions): Picker =>
  new RingHashPicker(endpoints, options?.loadBalancing?.consistentHash?.minimumRingSize ?? 1024);
