// Slow start (loadBalancer.warmup): Envoy's weight formula, and what ROUND_ROBIN and LEAST_REQUEST
// make of it.
import { expect } from 'chai';
import type { WarmupSettings } from '../config/traffic-policy.js';
import { passthroughEndpoint, type Endpoint } from './endpoint.js';
import { getBalancer } from './index.js';
import { slowStartFactor } from './slow-start.js';

const WARMUP: WarmupSettings = { durationMs: 60_000, minimumFraction: 0.1, aggression: 1 };

function endpoint(port: number, addedAt: number): Endpoint {
  return { ...passthroughEndpoint('127.0.0.1', port), addedAt };
}

function share(picks: (Endpoint | undefined)[], e: Endpoint): number {
  return picks.filter((p) => p === e).length / picks.length;
}

describe('slow start (warmup)', () => {
  it("scales a new endpoint's weight as Envoy does: max(minimum, (age / duration) ^ (1 / aggression))", () => {
    expect(slowStartFactor(endpoint(1, 0), WARMUP, 30_000)).to.be.closeTo(0.5, 1e-9);
    expect(slowStartFactor(endpoint(1, 0), WARMUP, 1_000)).to.equal(0.1); // the floor
    expect(slowStartFactor(endpoint(1, 0), { ...WARMUP, minimumFraction: 0 }, 0)).to.be.closeTo(1 / 60_000, 1e-12); // at least 1 ms of age
    expect(slowStartFactor(endpoint(1, 0), { ...WARMUP, aggression: 2 }, 15_000)).to.be.closeTo(0.5, 1e-9); // sqrt(1/4)
    expect(slowStartFactor(endpoint(1, 0), WARMUP, 60_000)).to.equal(1);
    expect(slowStartFactor(passthroughEndpoint('127.0.0.1', 1), WARMUP, 5)).to.equal(1); // no join time: not warming
  });

  it('ROUND_ROBIN gives a new endpoint its ramped share, then its full share once the window is over', () => {
    let now = 100_000;
    const old = [endpoint(1, 0), endpoint(2, 0), endpoint(3, 0)];
    const fresh = endpoint(4, now - 30_000); // half-way: weight 0.5 against 1, 1, 1
    const lb = { balancer: 'ROUND_ROBIN', consistentHash: undefined, warmup: WARMUP, key: '' };
    const picker = getBalancer('ROUND_ROBIN')!([...old, fresh], { loadBalancing: lb, now: () => now });
    const picks = Array.from({ length: 3500 }, () => picker.pick());
    expect(share(picks, fresh)).to.be.closeTo(0.5 / 3.5, 0.01);
    now += 30_000;
    const later = Array.from({ length: 400 }, () => picker.pick());
    expect(share(later, fresh)).to.equal(0.25);
  });

  it('LEAST_REQUEST weighs the outstanding count by the ramp', () => {
    const now = 100_000;
    const old = endpoint(1, 0);
    const fresh = endpoint(2, now - 6_000); // weight 0.1 (the floor): one request costs it as much as ten on the other
    const lb = { balancer: 'LEAST_REQUEST', consistentHash: undefined, warmup: WARMUP, key: '' };
    const picker = getBalancer('LEAST_REQUEST')!([old, fresh], { loadBalancing: lb, now: () => now });
    old.outstanding = 5; // cost 6 against the new one's (0 + 1) / 0.1 = 10
    for (let i = 0; i < 20; i++) expect(picker.pick()).to.equal(old);
    old.outstanding = 10; // cost 11
    for (let i = 0; i < 20; i++) expect(picker.pick()).to.equal(fresh);
  });
});
