import { expect } from 'chai';
import { passthroughEndpoint, type Endpoint } from './endpoint.js';
import { canonicalBalancerName, getBalancer, registerBalancer } from './index.js';

function endpoints(n: number): Endpoint[] {
  return Array.from({ length: n }, (_, i) => passthroughEndpoint('127.0.0.1', 10000 + i));
}

function counts(picks: (Endpoint | undefined)[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const e of picks) m.set(e!.port, (m.get(e!.port) ?? 0) + 1);
  return m;
}

describe('balancers', () => {
  it('ROUND_ROBIN rotates exactly over the list', () => {
    const eps = endpoints(3);
    const picker = getBalancer('ROUND_ROBIN')!(eps);
    const first = picker.pick()!;
    const start = eps.indexOf(first);
    for (let i = 1; i < 30; i++) expect(picker.pick()).to.equal(eps[(start + i) % 3]);
  });

  it('LEAST_REQUEST prefers the less loaded of its two choices', () => {
    const eps = endpoints(2);
    eps[0]!.outstanding = 5;
    const picker = getBalancer('LEAST_REQUEST')!(eps);
    for (let i = 0; i < 50; i++) expect(picker.pick()).to.equal(eps[1]);
    eps[1]!.outstanding = 9;
    for (let i = 0; i < 50; i++) expect(picker.pick()).to.equal(eps[0]);
  });

  it('LEAST_REQUEST spreads ties and never picks the busiest of three', () => {
    const eps = endpoints(3);
    eps[2]!.outstanding = 100;
    const picker = getBalancer('LEAST_REQUEST')!(eps);
    const c = counts(Array.from({ length: 3000 }, () => picker.pick()));
    expect(c.get(10002)).to.equal(undefined);
    expect(c.get(10000)).to.be.within(1200, 1800);
    expect(getBalancer('LEAST_REQUEST')!(endpoints(1)).pick()!.port).to.equal(10000);
  });

  it('RANDOM spreads over all endpoints', () => {
    const picker = getBalancer('RANDOM')!(endpoints(4));
    const c = counts(Array.from({ length: 8000 }, () => picker.pick()));
    for (const port of [10000, 10001, 10002, 10003]) expect(c.get(port)).to.be.within(1600, 2400);
  });

  it('every balancer returns undefined for an empty list', () => {
    for (const name of ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM']) expect(getBalancer(name)!([]).pick()).to.equal(undefined);
  });

  it('UNSPECIFIED and LEAST_CONN mean LEAST_REQUEST; custom balancers register by name', () => {
    expect(canonicalBalancerName('UNSPECIFIED')).to.equal('LEAST_REQUEST');
    expect(canonicalBalancerName('LEAST_CONN')).to.equal('LEAST_REQUEST');
    expect(canonicalBalancerName(undefined)).to.equal('LEAST_REQUEST');
    expect(getBalancer('LEAST_CONN')).to.equal(getBalancer('LEAST_REQUEST'));
    registerBalancer('FIRST_FOR_TEST', (eps) => ({ pick: () => eps[0] }));
    expect(getBalancer('FIRST_FOR_TEST')!(endpoints(2)).pick()!.port).to.equal(10000);
    expect(() => registerBalancer('bad name', (eps) => ({ pick: () => eps[0] }))).to.throw(/UPPER_SNAKE_CASE/);
  });
});
