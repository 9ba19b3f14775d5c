// Outlier detection on a clock the test drives: Envoy's consecutive-error rules, the ejection percent
// (current Envoy: none under 10 endpoints at the default 10 %), the growing ejection time and its decay,
// the interval sweeps, local-origin failures with and without the split, and panic mode.
import { expect } from 'chai';
import { passthroughEndpoint, type Endpoint } from '../balancer/endpoint.js';
import { compileOutlierDetection } from '../config/compile-traffic-policy.js';
import { OutlierDetector } from './outlier-detector.js';

type OD = Parameters<typeof compileOutlierDetection>[0];

function setup(od: OD, n = 3) {
  let now = 0;
  let changes = 0;
  const eps: Endpoint[] = Array.from({ length: n }, (_, i) => passthroughEndpoint('127.0.0.1', 30000 + i));
  const d = new OutlierDetector(compileOutlierDetection(od, 'test'), () => changes++, () => now);
  d.sync(eps);
  return {
    d,
    eps,
    at(t: number) {
      now = t;
      d.tick();
    },
    get changes() {
      return changes;
    },
  };
}

const fail = (d: OutlierDetector, ep: Endpoint, times: number, status = 500) => {
  for (let i = 0; i < times; i++) d.report(ep, { kind: 'status', status });
};

describe('OutlierDetector', () => {
  it("has Istio's defaults: 5 consecutive 5xx, 10 s sweeps, 30 s base ejection, 10 %, no panic", () => {
    const o = compileOutlierDetection({}, 'x');
    expect(o).to.include({ consecutive5xxErrors: 5, consecutiveGatewayErrors: 0, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0, maxEjectionTimeMs: 300_000 });
    // Istio passes maxEjectionPercent on only when above 0.
    expect(compileOutlierDetection({ maxEjectionPercent: 0 }, 'x').maxEjectionPercent).to.equal(10);
  });

  it('ejects at the Nth consecutive 5xx at once; a success in between starts the count over', () => {
    const t = setup({ consecutive5xxErrors: 3, maxEjectionPercent: 100 });
    const [a] = t.eps;
    fail(t.d, a!, 2);
    t.d.report(a!, { kind: 'status', status: 200 });
    fail(t.d, a!, 2);
    expect(t.d.isEjected(a!)).to.equal(false);
    fail(t.d, a!, 1);
    expect(t.d.isEjected(a!)).to.equal(true);
    expect(t.changes).to.equal(1);
    expect(t.d.ejectionsTotal).to.equal(1);
  });

  it('with the default 10 % ejects nothing among fewer than 10 endpoints, one among 10 (current Envoy)', () => {
    const few = setup({ consecutive5xxErrors: 1 }, 9);
    fail(few.d, few.eps[0]!, 3);
    expect(few.d.ejected).to.equal(0);
    expect(few.d.ejectionsRefused).to.equal(3); // each failure reaches the threshold again (the count starts over)
    const ten = setup({ consecutive5xxErrors: 1 }, 10);
    fail(ten.d, ten.eps[0]!, 1);
    fail(ten.d, ten.eps[1]!, 1);
    expect(ten.d.isEjected(ten.eps[0]!)).to.equal(true);
    expect(ten.d.isEjected(ten.eps[1]!)).to.equal(false);
    const half = setup({ consecutive5xxErrors: 1, maxEjectionPercent: 50 }, 4);
    for (const e of half.eps) fail(half.d, e, 1);
    expect(half.d.ejected).to.equal(2);
  });

  it('returns an endpoint at the first sweep after base × ejections, each ejection longer, up to 300 s', () => {
    const t = setup({ consecutive5xxErrors: 1, interval: '1s', baseEjectionTime: '2s', maxEjectionPercent: 100 });
    const a = t.eps[0]!;
    t.at(500);
    fail(t.d, a, 1); // ejected at 0.5 s for 2 s
    t.at(2400);
    expect(t.d.isEjected(a)).to.equal(true);
    t.at(3000); // the sweep at 3 s: 2.5 s ≥ 2 s
    expect(t.d.isEjected(a)).to.equal(false);
    fail(t.d, a, 1); // second ejection at 3 s: 4 s
    t.at(6500);
    expect(t.d.isEjected(a)).to.equal(true);
    t.at(7000);
    expect(t.d.isEjected(a)).to.equal(false);
    fail(t.d, a, 1); // third: 6 s
    t.at(12_900);
    expect(t.d.isEjected(a)).to.equal(true);
    t.at(13_000);
    expect(t.d.isEjected(a)).to.equal(false);
  });

  it('shortens the next ejection by one base time per interval the endpoint stays in', () => {
    const t = setup({ consecutive5xxErrors: 1, interval: '1s', baseEjectionTime: '2s', maxEjectionPercent: 100 });
    const a = t.eps[0]!;
    fail(t.d, a, 1); // back-off 1
    t.at(2000);
    fail(t.d, a, 1); // back-off 2: 4 s
    t.at(6000);
    expect(t.d.isEjected(a)).to.equal(false);
    t.at(8000); // two sweeps in: back-off 2 → 0
    fail(t.d, a, 1); // back-off 1 again: 2 s
    t.at(10_000);
    expect(t.d.isEjected(a)).to.equal(false);
  });

  it('counts gateway errors apart from other 5xx, and local-origin failures as 503/504 unless split', () => {
    const g = setup({ consecutive5xxErrors: 0, consecutiveGatewayErrors: 2, maxEjectionPercent: 100 });
    const a = g.eps[0]!;
    fail(g.d, a, 1, 502);
    fail(g.d, a, 1, 500); // not a gateway error: the gateway count starts over
    fail(g.d, a, 1, 504);
    expect(g.d.isEjected(a)).to.equal(false);
    g.d.report(a, { kind: 'connect-failure' }); // counts as 503
    expect(g.d.isEjected(a)).to.equal(true);
    const t = setup({ consecutive5xxErrors: 2, maxEjectionPercent: 100 });
    t.d.report(t.eps[0]!, { kind: 'timeout' });
    t.d.report(t.eps[0]!, { kind: 'reset' });
    expect(t.d.isEjected(t.eps[0]!)).to.equal(true);
    const s = setup({ consecutive5xxErrors: 2, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 3, maxEjectionPercent: 100 });
    const b = s.eps[0]!;
    s.d.report(b, { kind: 'connect-failure' });
    s.d.report(b, { kind: 'timeout' });
    fail(s.d, b, 1, 503); // an answer: it connected, the local count starts over; one 5xx
    s.d.report(b, { kind: 'reset' });
    s.d.report(b, { kind: 'reset' });
    expect(s.d.isEjected(b)).to.equal(false);
    s.d.report(b, { kind: 'reset' });
    expect(s.d.isEjected(b)).to.equal(true);
  });

  it('is in panic while fewer than minHealthPercent of the endpoints are healthy', () => {
    const t = setup({ consecutive5xxErrors: 1, maxEjectionPercent: 100, minHealthPercent: 50 }, 4);
    fail(t.d, t.eps[0]!, 1);
    fail(t.d, t.eps[1]!, 1);
    expect(t.d.panic).to.equal(false); // 50 % healthy is not below 50 %
    fail(t.d, t.eps[2]!, 1);
    expect(t.d.panic).to.equal(true);
  });

  it('forgets endpoints that leave, and a long quiet spell returns every endpoint', () => {
    const t = setup({ consecutive5xxErrors: 1, maxEjectionPercent: 100, interval: '10ms', baseEjectionTime: '1s' });
    fail(t.d, t.eps[0]!, 1);
    fail(t.d, t.eps[1]!, 1);
    t.d.sync([t.eps[1]!, t.eps[2]!]);
    expect(t.d.ejected).to.equal(1);
    t.at(3_600_000);
    expect(t.d.ejected).to.equal(0);
  });
});
