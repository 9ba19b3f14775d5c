// The retry budget's arithmetic on a fake clock: reserve, ratio, the window sliding, and the caps on
// concurrent retries of a DestinationRule.
import { expect } from 'chai';
import { NO_RETRY_LIMITS, type RetryLimits } from '../config/route-policy.js';
import { RetryBudget } from './retry-budget.js';
import { ClusterRetryState } from './retry-concurrency.js';

function takeAll(b: RetryBudget, max = 100_000): number {
  let n = 0;
  while (n < max && b.tryWithdraw()) n++;
  return n;
}

describe('RetryBudget (Linkerd/Finagle): ratio of the window plus a reserve per second', () => {
  it('allows minPerSecond × window retries with no traffic, then ratio × first attempts more', () => {
    let t = 1_000_000;
    const b = new RetryBudget({ ratio: 0.2, minPerSecond: 10, windowMs: 10_000 }, () => t);
    expect(takeAll(b)).to.equal(100);
    for (let i = 0; i < 1000; i++) b.deposit();
    expect(takeAll(b)).to.equal(200);
    t += 1000;
    expect(b.tryWithdraw()).to.equal(false);
  });

  it('forgets deposits and withdrawals that left the window, slot by slot', () => {
    let t = 0;
    const b = new RetryBudget({ ratio: 0.5, minPerSecond: 0, windowMs: 1000 }, () => t);
    for (let i = 0; i < 100; i++) b.deposit();
    expect(takeAll(b)).to.equal(50);
    t = 500;
    for (let i = 0; i < 100; i++) b.deposit();
    expect(takeAll(b)).to.equal(50);
    t = 1050; // the first slot's 100 deposits and 50 withdrawals are gone; the second's remain
    expect(b.available()).to.equal(0);
    t = 1550; // everything left the window
    expect(b.available()).to.equal(0);
    for (let i = 0; i < 10; i++) b.deposit();
    expect(b.available()).to.equal(5);
    t = 100_000; // a long quiet gap clears the ring at once
    expect(b.available()).to.equal(0);
  });

  it('with ratio 0 and no reserve, allows no retry at all', () => {
    const b = new RetryBudget({ ratio: 0, minPerSecond: 0, windowMs: 10_000 });
    for (let i = 0; i < 50; i++) b.deposit();
    expect(b.tryWithdraw()).to.equal(false);
  });
});

describe('ClusterRetryState: Envoy retry circuit breakers from a DestinationRule', () => {
  const limits = (l: Partial<RetryLimits>): RetryLimits => ({ ...NO_RETRY_LIMITS, ...l });

  it('maxRetries caps the retries in flight; no limits means no cap', () => {
    const s = new ClusterRetryState();
    s.activeRetries = 2;
    expect(s.mayRetry(limits({ maxRetries: 3 }))).to.equal(true);
    s.activeRetries = 3;
    expect(s.mayRetry(limits({ maxRetries: 3 }))).to.equal(false);
    expect(s.mayRetry(NO_RETRY_LIMITS)).to.equal(true);
  });

  it('retryBudget: percent of active requests, never below minRetryConcurrency, overriding maxRetries', () => {
    const s = new ClusterRetryState();
    const budget = limits({ maxRetries: 0, budget: { percent: 20, minRetryConcurrency: 3, intervalMs: 0 } });
    s.active = 100;
    s.activeRetries = 19;
    expect(s.mayRetry(budget)).to.equal(true);
    s.activeRetries = 20;
    expect(s.mayRetry(budget)).to.equal(false);
    s.active = 2;
    s.activeRetries = 2;
    expect(s.mayRetry(budget)).to.equal(true); // the floor of 3
    s.activeRetries = 3;
    expect(s.mayRetry(budget)).to.equal(false);
  });

  it('retryBudget with budgetInterval: the requests started within the interval count', () => {
    let t = 0;
    const s = new ClusterRetryState(() => t);
    const budget = limits({ budget: { percent: 10, minRetryConcurrency: 0, intervalMs: 1000 } });
    for (let i = 0; i < 50; i++) s.recordStart(budget);
    s.activeRetries = 4;
    expect(s.mayRetry(budget)).to.equal(true);
    s.activeRetries = 5;
    expect(s.mayRetry(budget)).to.equal(false);
    t = 2000;
    s.activeRetries = 0;
    expect(s.mayRetry(budget)).to.equal(false); // nothing started within the interval: 10 % of 0
  });
});
