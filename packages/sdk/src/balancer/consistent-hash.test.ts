// Ring hash and Maglev: the same key reaches the same endpoint, keys spread evenly, and when an
// endpoint joins or leaves only about 1/N of the keys move (checked over 20 000 keys).
import { expect } from 'chai';
import { passthroughEndpoint, type Endpoint } from './endpoint.js';
import { hashString } from './hash.js';
import { getBalancer } from './index.js';
import type { Picker } from './balancer.js';
import type { LoadBalancing } from '../config/traffic-policy.js';

const KEYS = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

function endpoints(n: number, from = 0): Endpoint[] {
  return Array.from({ length: n }, (_, i) => passthroughEndpoint('10.0.0.' + (from + i + 1), 9080));
}

function lb(algorithm: 'RING_HASH' | 'MAGLEV', size?: number): LoadBalancing {
  const consistentHash = {
    key: { kind: 'header', name: 'x-user' } as const,
    algorithm,
    minimumRingSize: algorithm === 'RING_HASH' ? (size ?? 1024) : 1024,
    tableSize: algorithm === 'MAGLEV' ? (size ?? 65537) : 65537,
  };
  return { balancer: algorithm, consistentHash, warmup: undefined, key: algorithm };
}

function picker(algorithm: 'RING_HASH' | 'MAGLEV', eps: readonly Endpoint[], size?: number): Picker {
  return getBalancer(algorithm)!(eps, { loadBalancing: lb(algorithm, size) });
}

/** The endpoint (by address) each key goes to. */
function assign(p: Picker): string[] {
  return KEYS.map((k) => p.pick({ hash: hashString(k) })!.address);
}

for (const algorithm of ['RING_HASH', 'MAGLEV'] as const) {
  describe(`${algorithm} consistent hashing`, () => {
    it('sends a key to the same endpoint every time, whatever order the endpoints are listed in', () => {
      const eps = endpoints(5);
      const a = assign(picker(algorithm, eps));
      expect(assign(picker(algorithm, eps))).to.deep.equal(a);
      expect(assign(picker(algorithm, [...eps].reverse()))).to.deep.equal(a);
    });

    it('spreads keys evenly over the endpoints', () => {
      const counts = new Map<string, number>();
      for (const a of assign(picker(algorithm, endpoints(5)))) counts.set(a, (counts.get(a) ?? 0) + 1);
      expect(counts.size).to.equal(5);
      // A fair share is 4000 of 20 000; ring hash with 1024 entries varies more than Maglev.
      const [lo, hi] = algorithm === 'MAGLEV' ? [3600, 4400] : [2800, 5200];
      for (const [addr, n] of counts) expect(n, addr).to.be.within(lo, hi);
    });

    it('moves about 1/N of the keys when an endpoint joins, and only to it', () => {
      const before = assign(picker(algorithm, endpoints(4)));
      const after = assign(picker(algorithm, endpoints(5)));
      let moved = 0;
      let betweenOld = 0;
      for (let i = 0; i < KEYS.length; i++) {
        if (before[i] === after[i]) continue;
        moved++;
        if (after[i] !== '10.0.0.5') betweenOld++;
      }
      // 1/5 of the keys belong to the new endpoint: 4000 ± statistics and ring granularity.
      expect(moved / KEYS.length).to.be.within(0.15, 0.25);
      // The ring moves keys only to the newcomer; Maglev's table shifts a few slots between the others.
      expect(betweenOld / KEYS.length).to.be.below(algorithm === 'MAGLEV' ? 0.03 : 0.0001);
    });

    it('moves only the keys of an endpoint that leaves', () => {
      const eps = endpoints(5);
      const before = assign(picker(algorithm, eps));
      const after = assign(picker(algorithm, eps.filter((e) => e.address !== '10.0.0.3')));
      let moved = 0;
      for (let i = 0; i < KEYS.length; i++) {
        if (before[i] === '10.0.0.3') continue;
        if (before[i] !== after[i]) moved++;
      }
      // Maglev's table may shift a few slots of the others; the ring moves none of them.
      expect(moved / KEYS.length).to.be.below(algorithm === 'MAGLEV' ? 0.03 : 0.0001);
      expect(after).to.not.include('10.0.0.3');
    });

    it('walks on to an endpoint not tried yet when asked to avoid some, and picks at random without a hash', () => {
      const eps = endpoints(3);
      const p = picker(algorithm, eps);
      const h = hashString('user-7');
      const first = p.pick({ hash: h })!;
      const second = p.pick({ hash: h, avoid: new Set([first]) })!;
      expect(second).to.not.equal(first);
      expect(p.pick({ hash: h, avoid: new Set([first]) })).to.equal(second);
      const third = p.pick({ hash: h, avoid: new Set([first, second]) })!;
      expect([first, second]).to.not.include(third);
      const seen = new Set(Array.from({ length: 300 }, () => p.pick()!.address));
      expect(seen.size).to.equal(3);
      expect(picker(algorithm, []).pick({ hash: h })).to.equal(undefined);
    });
  });
}

describe('ring size and Maglev table size', () => {
  it('builds a ring of at least minimumRingSize entries and a table of tableSize slots', () => {
    // Larger rings spread keys more evenly: compare the spread of 1024 and 65536 entries.
    const spread = (p: Picker) => {
      const counts = new Map<string, number>();
      for (const a of assign(p)) counts.set(a, (counts.get(a) ?? 0) + 1);
      const v = [...counts.values()];
      return Math.max(...v) - Math.min(...v);
    };
    expect(spread(picker('RING_HASH', endpoints(5), 65536))).to.be.below(spread(picker('RING_HASH', endpoints(5), 16)));
    const small = picker('MAGLEV', endpoints(3), 7);
    const slots = new Set(Array.from({ length: 7 }, (_, i) => small.pick({ hash: i })!.address));
    expect(slots.size).to.equal(3);
  });
});
