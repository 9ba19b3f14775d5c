// PEAK_EWMA's estimate (tower's rules, on a clock the test drives) and its picks.
import { expect } from 'chai';
import { passthroughEndpoint, type Endpoint } from './endpoint.js';
import { getBalancer } from './index.js';
import { DECAY_MS, DEFAULT_RTT_MS, peakEwmaCost, PeakEwmaPicker } from './peak-ewma.js';

function endpoints(n: number): Endpoint[] {
  return Array.from({ length: n }, (_, i) => passthroughEndpoint('127.0.0.1', 20000 + i));
}

describe('PEAK_EWMA', () => {
  it('starts at the default estimate, jumps to a peak at once and decays toward lower values by recency', () => {
    let now = 0;
    const [a] = endpoints(1);
    const p = new PeakEwmaPicker([a!], () => now);
    expect(peakEwmaCost(a!, now)).to.equal(DEFAULT_RTT_MS);
    p.observe(a!, 500);
    expect(peakEwmaCost(a!, now)).to.equal(500);
    // A fast answer one decay period later: the estimate moves 1 - 1/e of the way (and decayed meanwhile).
    now = DECAY_MS;
    p.observe(a!, 10);
    expect(peakEwmaCost(a!, now)).to.be.closeTo(500 / Math.E + 10 * (1 - 1 / Math.E), 1e-6);
    // Unheard from, it decays toward zero: a slow endpoint is tried again after a while.
    now += 5 * DECAY_MS;
    expect(peakEwmaCost(a!, now)).to.be.below(2);
    // Load multiplies the cost (it has just answered, so it is not stalled).
    p.observe(a!, 0.5);
    a!.outstanding = 3;
    const before = peakEwmaCost(a!, now);
    expect(before).to.be.above(0);
    a!.outstanding = 0;
    expect(peakEwmaCost(a!, now)).to.be.closeTo(before / 4, 1e-9);
  });

  it('stops choosing an endpoint after one slow answer, and one whose requests pile up', () => {
    let now = 1000;
    const eps = endpoints(4);
    const picker = getBalancer('PEAK_EWMA')!(eps, { now: () => now });
    for (const e of eps) picker.observe!(e, 2);
    picker.observe!(eps[0]!, 1000);
    now += 100;
    const picks = new Map<Endpoint, number>();
    for (let i = 0; i < 2000; i++) {
      const e = picker.pick()!;
      picks.set(e, (picks.get(e) ?? 0) + 1);
    }
    expect(picks.get(eps[0]!) ?? 0).to.equal(0);
    // Outstanding requests count even before any answer: the same estimate, three requests waiting.
    for (const e of eps) picker.observe!(e, 2);
    now += 5 * DECAY_MS;
    for (const e of eps) picker.observe!(e, 2);
    eps[1]!.outstanding = 3;
    const again = new Set(Array.from({ length: 2000 }, () => picker.pick()));
    expect(again.has(eps[1]!)).to.equal(false);
    expect(again.size).to.equal(3);
  });

  it('costs a busy endpoint that has not answered for longer than its estimate at least that time', () => {
    let now = 0;
    const eps = endpoints(2);
    const picker = getBalancer('PEAK_EWMA')!(eps, { now: () => now });
    for (const e of eps) picker.observe!(e, 1);
    // The first endpoint takes a request (it was idle: busy from now) and then answers nothing.
    eps[0]!.outstanding = 1;
    now = 50;
    expect(peakEwmaCost(eps[0]!, now)).to.be.closeTo(50 * 2, 1e-6);
    // An endpoint with an inflated estimate (a 20 ms peak) is still cheaper than one silent for 50 ms.
    picker.observe!(eps[1]!, 20);
    for (let i = 0; i < 50; i++) expect(picker.pick()).to.equal(eps[1]);
    // Once it answers, its cost is its estimate again (about the 30 ms it started with: no time passed to average in 1 ms).
    picker.observe!(eps[0]!, 2);
    expect(peakEwmaCost(eps[0]!, now)).to.be.within(2 * 29, 2 * 30);
    eps[0]!.outstanding = 0;
  });
});
