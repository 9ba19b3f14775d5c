import { expect } from 'chai';
import { validationIssues } from '../validation-issues.js';

const route = (extra: Record<string, unknown>) => ({ route: [{ destination: { host: 'ratings' } }], ...extra });
function issuesOf(extra: Record<string, unknown>): string[] {
  return validationIssues({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'r', namespace: 'shop' }, spec: { hosts: ['ratings'], http: [route(extra)] } });
}
function drIssues(trafficPolicy: unknown, subsetPolicy?: unknown): string[] {
  const spec = { host: 'ratings', trafficPolicy, subsets: subsetPolicy ? [{ name: 'v1', labels: { version: 'v1' }, trafficPolicy: subsetPolicy }] : undefined };
  return validationIssues({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'r', namespace: 'shop' }, spec: JSON.parse(JSON.stringify(spec)) });
}

describe('VirtualService timeout, retries, fault, mirror (Istio semantics)', () => {
  it("accepts Istio's own task files: request timeouts, retries, delay and abort faults, mirroring", () => {
    expect(issuesOf({ timeout: '0.5s' })).to.deep.equal([]);
    expect(issuesOf({ retries: { attempts: 3, perTryTimeout: '2s', retryOn: 'gateway-error,connect-failure,refused-stream' } })).to.deep.equal([]);
    expect(issuesOf({ retries: { attempts: 2, retryOn: '503,reset,cancelled,deadline-exceeded,internal,resource-exhausted,unavailable', retryIgnorePreviousHosts: false, retryRemoteLocalities: true, backoff: '50ms' } })).to.deep.equal([]);
    expect(issuesOf({ retries: { attempts: 0 } })).to.deep.equal([]);
    expect(issuesOf({ fault: { delay: { percentage: { value: 100.0 }, fixedDelay: '7s' } } })).to.deep.equal([]);
    expect(issuesOf({ fault: { delay: { percent: 100, fixedDelay: '2s' } } })).to.deep.equal([]);
    expect(issuesOf({ fault: { abort: { percentage: { value: 0.1 }, httpStatus: 500 } } })).to.deep.equal([]);
    expect(issuesOf({ fault: { abort: { grpcStatus: 'UNAVAILABLE' } } })).to.deep.equal([]);
    expect(issuesOf({ mirror: { host: 'reviews', subset: 'v2' }, mirrorPercentage: { value: 100.0 } })).to.deep.equal([]);
    expect(issuesOf({ mirror: { host: 'reviews', port: { number: 9080 } }, mirrorPercent: 50 })).to.deep.equal([]);
    expect(issuesOf({ mirrors: [{ destination: { host: 'reviews', subset: 'v2' }, percentage: { value: 25 } }, { destination: { host: 'reviews', subset: 'v3' } }] })).to.deep.equal([]);
  });

  it('names each bad duration, percentage, status and retryOn token by its path', () => {
    expect(issuesOf({ timeout: '5' })).to.deep.equal(['spec.http[0].timeout: "5" is not a duration; write a number and a unit (ms, s, m, h), e.g. 500ms or 2s']);
    expect(issuesOf({ timeout: '0s' })).to.deep.equal(['spec.http[0].timeout: "0s" is shorter than 1ms; Istio requires at least 1ms']);
    expect(issuesOf({ timeout: '1.5ms' })[0]).to.match(/not a whole number of milliseconds/);
    expect(issuesOf({ retries: { attempts: 3, perTryTimeout: 'soon' } })[0]).to.match(/^spec\.http\[0\]\.retries\.perTryTimeout: "soon" is not a duration/);
    expect(issuesOf({ retries: { attempts: -1 } })).to.deep.equal(['spec.http[0].retries.attempts: must be at least 0, got -1']);
    expect(issuesOf({ retries: { attempts: 2, retryOn: '5xx,bogus,599' } })).to.deep.equal([
      'spec.http[0].retries.retryOn: "bogus" is not a retryOn policy; use a comma-separated list (no spaces) of HTTP status codes and 5xx, gateway-error, reset, reset-before-request, connect-failure, retriable-4xx, refused-stream, retriable-status-codes, retriable-headers, envoy-ratelimited, http3-post-connect-failure, cancelled, deadline-exceeded, internal, resource-exhausted, unavailable',
      'spec.http[0].retries.retryOn: "599" is not a retryOn policy; use a comma-separated list (no spaces) of HTTP status codes and 5xx, gateway-error, reset, reset-before-request, connect-failure, retriable-4xx, refused-stream, retriable-status-codes, retriable-headers, envoy-ratelimited, http3-post-connect-failure, cancelled, deadline-exceeded, internal, resource-exhausted, unavailable',
    ]);
    expect(issuesOf({ retries: { retryOn: '5xx' } })[0]).to.match(/^spec\.http\[0\]\.retries\.attempts: is 0 \(or not set\), which disables retries/);
    expect(issuesOf({ fault: { abort: { httpStatus: 503, percentage: { value: 120 } } } })).to.deep.equal(['spec.http[0].fault.abort.percentage.value: must be from 0 to 100 (a percentage), got 120']);
    expect(issuesOf({ fault: { abort: { httpStatus: 503, percentage: { value: '50' } } } })).to.deep.equal(['spec.http[0].fault.abort.percentage.value: must be a number from 0 to 100, got "50"']);
    expect(issuesOf({ fault: { abort: { httpStatus: 700 } } })).to.deep.equal(['spec.http[0].fault.abort.httpStatus: HTTP status 700 is not in range 200-599']);
    expect(issuesOf({ fault: { abort: { httpStatus: 503, grpcStatus: 'UNAVAILABLE' } } })).to.deep.equal(['spec.http[0].fault.abort: set one of httpStatus and grpcStatus, not both']);
    expect(issuesOf({ fault: { abort: { percentage: { value: 5 } } } })[0]).to.match(/^spec\.http\[0\]\.fault\.abort: needs httpStatus/);
    expect(issuesOf({ fault: { abort: { grpcStatus: 'unavailable' } } })[0]).to.match(/^spec\.http\[0\]\.fault\.abort\.grpcStatus: "unavailable" is not a gRPC status name/);
    expect(issuesOf({ fault: {} })).to.deep.equal(['spec.http[0].fault: must have a delay, an abort, or both']);
    expect(issuesOf({ fault: { delay: { percent: 50 } } })).to.deep.equal(['spec.http[0].fault.delay.fixedDelay: is required: how long to delay the requests, e.g. 5s']);
    expect(issuesOf({ fault: { delay: { fixedDelay: '1s', exponentialDelay: '1s' } } })[0]).to.match(/^spec\.http\[0\]\.fault\.delay\.exponentialDelay: this Istio field is not supported by Weft yet: Istio does not implement it either/);
    expect(issuesOf({ mirrorPercentage: { value: -1 } })).to.deep.equal(['spec.http[0].mirrorPercentage.value: must be from 0 to 100 (a percentage), got -1']);
    expect(issuesOf({ mirrorPercent: 101 })).to.deep.equal(['spec.http[0].mirrorPercent: must be at most 100, got 101']);
    expect(issuesOf({ mirrors: [{ percentage: { value: 5 } }] })).to.deep.equal(['spec.http[0].mirrors[0].destination: is required']);
    expect(issuesOf({ mirror: { host: 'reviews', subset: 'V2' } })[0]).to.match(/^spec\.http\[0\]\.mirror\.subset: "V2" is not a valid subset name/);
  });
});

describe('DestinationRule trafficPolicy.retryBudget', () => {
  it("accepts Istio's fields at rule and subset level", () => {
    expect(drIssues({ retryBudget: { percent: 20, minRetryConcurrency: 3 } })).to.deep.equal([]);
    expect(drIssues({ retryBudget: { percent: 12.5, budgetInterval: '10s' } }, { retryBudget: { minRetryConcurrency: 0 } })).to.deep.equal([]);
    expect(drIssues({ connectionPool: { http: { maxRetries: 3 } } }, { connectionPool: { http: { maxRetries: 0 } } })).to.deep.equal([]);
    expect(drIssues({ connectionPool: { http: { maxRetries: -1 } } })).to.deep.equal(['spec.trafficPolicy.connectionPool.http.maxRetries: must be at least 0, got -1']);
  });

  it('names a bad percent, concurrency or interval by its path', () => {
    expect(drIssues({ retryBudget: { percent: 101 } })).to.deep.equal(['spec.trafficPolicy.retryBudget.percent: must be from 0 to 100 (a percentage), got 101']);
    expect(drIssues(undefined, { retryBudget: { percent: 'all' } })).to.deep.equal(['spec.subsets[0].trafficPolicy.retryBudget.percent: must be a number from 0 to 100, got "all"']);
    expect(drIssues({ retryBudget: { minRetryConcurrency: -3 } })).to.deep.equal(['spec.trafficPolicy.retryBudget.minRetryConcurrency: must be at least 0, got -3']);
    expect(drIssues({ retryBudget: { budgetInterval: '10' } })[0]).to.match(/^spec\.trafficPolicy\.retryBudget\.budgetInterval: "10" is not a duration/);
  });
});
