// What a VirtualService route's timeout, retries, fault and mirrors and a DestinationRule's retry caps
// compile to, with Istio's defaults and conversions (pilot's route.go and retry.go).
import { expect } from 'chai';
import { compileConfig } from './config-compiler.js';
import { DEFAULT_RETRY_POLICY, DEFAULT_ROUTE_POLICY } from './compile-route-policy.js';
import type { RoutePolicy } from './route-policy.js';
import { NO_RETRY_LIMITS } from './route-policy.js';
import { resourceMsg } from './test-resources.js';

const NS = 'bookinfo';
const RATINGS = 'ratings.bookinfo.svc.cluster.local';

function policyOf(route: Record<string, unknown>): RoutePolicy {
  const config = compileConfig('1', [resourceMsg('VirtualService', NS, 'ratings', { hosts: ['ratings'], http: [{ route: [{ destination: { host: 'ratings' } }], ...route }] })], NS);
  return config.routes.get(RATINGS)!.routes[0]!.destinations[0]!.policy!;
}

describe('compileRoutePolicy: Istio defaults and conversions', () => {
  it("gives a route without any of the fields Istio's outbound default: no timeout, 2 retries on connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes with no code (503 not retried)", () => {
    const p = policyOf({});
    expect(p).to.equal(DEFAULT_ROUTE_POLICY);
    expect(p.timeoutMs).to.equal(undefined);
    const r = p.retry!;
    expect(r.numRetries).to.equal(2);
    expect(r.retryOnText).to.equal('connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes');
    expect(r.on).to.include({ connectFailure: true, refusedStream: true, unavailable: true, cancelled: true, retriableStatusCodes: true, fiveXx: false, gatewayError: false, reset: false });
    expect([...r.statusCodes]).to.deep.equal([]);
    expect(r).to.include({ perTryTimeoutMs: undefined, ignorePreviousHosts: true, backoffBaseMs: 25, backoffMaxMs: 250 });
    expect(p.fault).to.equal(undefined);
    expect(p.mirrors).to.deep.equal([]);
  });

  it('reads timeout, retries (attempts, perTryTimeout, retryOn with status codes, previous hosts, backoff) as Istio does', () => {
    const p = policyOf({ timeout: '0.5s', retries: { attempts: 3, perTryTimeout: '200ms', retryOn: '503,gateway-error,409', retryIgnorePreviousHosts: false, backoff: '40ms' } });
    expect(p.timeoutMs).to.equal(500);
    const r = p.retry!;
    expect(r).to.include({ numRetries: 3, perTryTimeoutMs: 200, ignorePreviousHosts: false, backoffBaseMs: 40, backoffMaxMs: 400, retryOnText: '503,gateway-error,409' });
    // Status codes go to the code list and retriable-status-codes is implied, as Istio appends it.
    expect([...r.statusCodes].sort()).to.deep.equal([409, 503]);
    expect(r.on).to.include({ gatewayError: true, retriableStatusCodes: true, connectFailure: false });
    // retries without retryOn keep Istio's default retryOn.
    expect(policyOf({ retries: { attempts: 5 } }).retry!).to.include({ numRetries: 5, retryOnText: DEFAULT_RETRY_POLICY.retryOnText });
    // attempts: 0 disables retries; a timeout alone keeps the default retries.
    expect(policyOf({ retries: { attempts: 0 } }).retry).to.equal(undefined);
    expect(policyOf({ timeout: '2s' }).retry).to.equal(DEFAULT_RETRY_POLICY);
    expect(policyOf({ retries: { attempts: 1, retryOn: 'reset,cancelled,deadline-exceeded,internal,resource-exhausted,unavailable,retriable-4xx,envoy-ratelimited' } }).retry!.on).to.include({
      reset: true, cancelled: true, deadlineExceeded: true, internal: true, resourceExhausted: true, unavailable: true, retriable4xx: true, envoyRatelimited: true, retriableStatusCodes: false,
    });
  });

  it('turns fault percentages into a fraction per million; no percentage (and 0 %) injects nothing; the deprecated percent still works', () => {
    expect(policyOf({ fault: { delay: { fixedDelay: '7s', percentage: { value: 100 } } } }).fault).to.deep.equal({ delay: { ms: 7000, perMillion: 1_000_000 }, abort: undefined });
    expect(policyOf({ fault: { delay: { fixedDelay: '2s', percent: 100 } } }).fault!.delay).to.deep.equal({ ms: 2000, perMillion: 1_000_000 });
    expect(policyOf({ fault: { abort: { httpStatus: 500, percentage: { value: 0.1 } } } }).fault!.abort).to.deep.equal({ httpStatus: 500, grpcStatus: undefined, grpcStatusName: undefined, perMillion: 1000 });
    expect(policyOf({ fault: { abort: { grpcStatus: 'UNAVAILABLE', percentage: { value: 50 } } } }).fault!.abort).to.deep.equal({ httpStatus: 200, grpcStatus: 14, grpcStatusName: 'UNAVAILABLE', perMillion: 500_000 });
    expect(policyOf({ fault: { abort: { httpStatus: 503 } } }).fault).to.equal(undefined);
    expect(policyOf({ fault: { delay: { fixedDelay: '1s' }, abort: { httpStatus: 503, percentage: { value: 0 } } } }).fault).to.equal(undefined);
    expect(policyOf({ fault: { delay: { fixedDelay: '1s', percentage: { value: 50 } }, abort: { httpStatus: 503 } } }).fault).to.deep.equal({ delay: { ms: 1000, perMillion: 500_000 }, abort: undefined });
  });

  it('mirrors 100 % by default, mirrorPercentage or mirrorPercent when given, 0 % not at all; mirrors[] each with its own share; the copy is sent once within the route timeout', () => {
    const one = policyOf({ timeout: '3s', mirror: { host: 'reviews', subset: 'v2' } });
    expect(one.mirrors).to.have.length(1);
    expect(one.mirrors[0]!.perMillion).to.equal(1_000_000);
    expect(one.mirrors[0]!.decision).to.deep.include({ host: 'reviews.bookinfo.svc.cluster.local', subset: 'v2', port: undefined });
    expect(one.mirrors[0]!.decision.policy).to.deep.include({ timeoutMs: 3000, retry: undefined, fault: undefined, mirrors: [] });
    expect(policyOf({ mirror: { host: 'reviews' }, mirrorPercentage: { value: 12.5 } }).mirrors[0]!.perMillion).to.equal(125_000);
    expect(policyOf({ mirror: { host: 'reviews' }, mirrorPercent: 30 }).mirrors[0]!.perMillion).to.equal(300_000);
    expect(policyOf({ mirror: { host: 'reviews' }, mirrorPercentage: { value: 0 } }).mirrors).to.deep.equal([]);
    const many = policyOf({ mirrors: [{ destination: { host: 'reviews', subset: 'v2' }, percentage: { value: 25 } }, { destination: { host: 'details.other', port: { number: 9080 } } }, { destination: { host: 'x' }, percentage: { value: 0 } }] });
    expect(many.mirrors.map((m) => [m.decision.host, m.decision.subset, m.decision.port, m.perMillion])).to.deep.equal([
      ['reviews.bookinfo.svc.cluster.local', 'v2', undefined, 250_000],
      ['details.other.svc.cluster.local', undefined, 9080, 1_000_000],
    ]);
  });

  it('subscribes the mirror hosts with the route destinations', () => {
    const config = compileConfig('1', [resourceMsg('VirtualService', NS, 'ratings', { hosts: ['ratings'], http: [{ route: [{ destination: { host: 'ratings' } }], mirror: { host: 'ratings-next' } }] })], NS);
    expect(config.routedHosts.get(RATINGS)).to.have.members([RATINGS, 'ratings-next.bookinfo.svc.cluster.local']);
  });
});

describe('compileRetryLimits: DestinationRule caps on concurrent retries', () => {
  it('reads connectionPool.http.maxRetries and retryBudget (defaults 20 % and 3), a subset replacing each field as a whole', () => {
    const config = compileConfig('1', [
      resourceMsg('DestinationRule', NS, 'ratings', {
        host: 'ratings',
        trafficPolicy: { connectionPool: { http: { maxRetries: 4 } } },
        subsets: [
          { name: 'v1', labels: { version: 'v1' } },
          { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { retryBudget: {} } },
          { name: 'v3', labels: { version: 'v3' }, trafficPolicy: { connectionPool: { tcp: { maxConnections: 5 } }, retryBudget: { percent: 50, minRetryConcurrency: 1, budgetInterval: '5s' } } },
        ],
      }),
    ], NS);
    const dr = config.destinationRules.get(RATINGS)!;
    expect(dr.retryLimits).to.deep.include({ maxRetries: 4, budget: undefined });
    expect(dr.subsets.get('v1')!.retryLimits).to.equal(dr.retryLimits);
    expect(dr.subsets.get('v2')!.retryLimits).to.deep.include({ maxRetries: 4, budget: { percent: 20, minRetryConcurrency: 3, intervalMs: 0 } });
    expect(dr.subsets.get('v3')!.retryLimits).to.deep.include({ maxRetries: Infinity, budget: { percent: 50, minRetryConcurrency: 1, intervalMs: 5000 } });
    const none = compileConfig('1', [resourceMsg('DestinationRule', NS, 'ratings', { host: 'ratings' })], NS);
    expect(none.destinationRules.get(RATINGS)!.retryLimits).to.equal(NO_RETRY_LIMITS);
  });
});
