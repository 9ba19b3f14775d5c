// Compiles a VirtualService http route's timeout, retries, fault and mirror fields into the RoutePolicy
// the stages read, with the defaults and conversions of Istio's pilot (route.go, retry/retry.go):
// - no `retries`: Istio's default policy, 2 retries on connect-failure, refused-stream, unavailable,
//   cancelled and retriable-status-codes with no code listed (so a 503 answer is not retried; Istio
//   1.24+); `retries` without `retryOn` keeps that retryOn; `attempts: 0` disables retries; status codes
//   in retryOn become retriable status codes, and retriable-status-codes is added when missing;
// - a fault or mirror percentage becomes a fraction per million (value × 10000, truncated); a fault with
//   no percentage injects nothing; a mirror with no percentage copies every request, one with 0 none.
// The input was validated by @weft/api, so nothing here throws on a field's shape.
import { parseDuration, toFqdn, type HTTPRoute } from '@weft/api';
import type { RouteDecision } from './compiled.js';
import {
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_RETRY_ON_TEXT,
  type FaultPolicy,
  type MirrorPolicy,
  type RetryOn,
  type RetryPolicy,
  type RoutePolicy,
} from './route-policy.js';

/** gRPC status codes by name, for fault.abort.grpcStatus (names validated by @weft/api). */
const GRPC_STATUS: Readonly<Record<string, number>> = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
};

const TOKEN_FLAGS: Readonly<Record<string, keyof RetryOn>> = {
  '5xx': 'fiveXx',
  'gateway-error': 'gatewayError',
  reset: 'reset',
  'reset-before-request': 'resetBeforeRequest',
  'connect-failure': 'connectFailure',
  'retriable-4xx': 'retriable4xx',
  'refused-stream': 'refusedStream',
  'retriable-status-codes': 'retriableStatusCodes',
  'retriable-headers': 'retriableHeaders',
  'envoy-ratelimited': 'envoyRatelimited',
  'http3-post-connect-failure': 'http3PostConnectFailure',
  cancelled: 'cancelled',
  'deadline-exceeded': 'deadlineExceeded',
  internal: 'internal',
  'resource-exhausted': 'resourceExhausted',
  unavailable: 'unavailable',
};

/** retryOn as Istio's parseRetryOn reads it: conditions, and the status codes among the tokens. */
export function parseRetryOn(text: string): { on: RetryOn; statusCodes: ReadonlySet<number>; text: string } {
  const on: Record<keyof RetryOn, boolean> = {
    fiveXx: false, gatewayError: false, reset: false, resetBeforeRequest: false, connectFailure: false, retriable4xx: false,
    refusedStream: false, retriableStatusCodes: false, retriableHeaders: false, envoyRatelimited: false, http3PostConnectFailure: false,
    cancelled: false, deadlineExceeded: false, internal: false, resourceExhausted: false, unavailable: false,
  };
  const codes = new Set<number>();
  for (const raw of text.split(',')) {
    const token = raw.trim();
    if (token === '') continue;
    if (/^\d+$/.test(token)) codes.add(Number(token));
    else if (Object.hasOwn(TOKEN_FLAGS, token)) on[TOKEN_FLAGS[token]!] = true;
  }
  // Istio appends retriable-status-codes when codes are listed without it.
  if (codes.size > 0) on.retriableStatusCodes = true;
  return { on: Object.freeze(on), statusCodes: codes, text };
}

function retryPolicy(retryOnText: string, numRetries: number, perTryTimeoutMs: number | undefined, ignorePreviousHosts: boolean, retryRemoteLocalities: boolean, backoffBaseMs: number): RetryPolicy {
  const { on, statusCodes } = parseRetryOn(retryOnText);
  return Object.freeze({
    numRetries,
    perTryTimeoutMs,
    on,
    statusCodes,
    retryOnText,
    ignorePreviousHosts,
    retryRemoteLocalities,
    backoffBaseMs,
    backoffMaxMs: backoffBaseMs * 10,
  });
}

/** Istio's outbound default: what a route without `retries` (and a host without a VirtualService) gets. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = retryPolicy(DEFAULT_RETRY_ON_TEXT, 2, undefined, true, false, DEFAULT_BACKOFF_BASE_MS);

/** No timeout, Istio's default retries, no fault, no mirror. */
export const DEFAULT_ROUTE_POLICY: RoutePolicy = Object.freeze({ timeoutMs: undefined, retry: DEFAULT_RETRY_POLICY, fault: undefined, mirrors: Object.freeze([]) });

const ms = (d: string | undefined): number | undefined => (d === undefined ? undefined : parseDuration(d));

/** Istio's translatePercentToFractionalPercent: value × 10000 per million, truncated as uint32. */
const perMillion = (value: number | undefined): number => Math.trunc((value ?? 0) * 10_000);

function compileRetry(route: HTTPRoute): RetryPolicy | undefined {
  const r = route.retries;
  if (r === undefined) return DEFAULT_RETRY_POLICY;
  const attempts = r.attempts ?? 0;
  if (attempts <= 0) return undefined;
  return retryPolicy(
    r.retryOn !== undefined && r.retryOn !== '' ? r.retryOn : DEFAULT_RETRY_ON_TEXT,
    attempts,
    ms(r.perTryTimeout),
    r.retryIgnorePreviousHosts ?? true,
    r.retryRemoteLocalities === true,
    ms(r.backoff) ?? DEFAULT_BACKOFF_BASE_MS,
  );
}

function compileFault(route: HTTPRoute): FaultPolicy | undefined {
  const f = route.fault;
  if (f === undefined) return undefined;
  const d = f.delay;
  const a = f.abort;
  const delay = d !== undefined && d.fixedDelay !== undefined
    ? { ms: parseDuration(d.fixedDelay), perMillion: d.percentage !== undefined ? perMillion(d.percentage.value) : (d.percent ?? 0) * 10_000 }
    : undefined;
  const abort = a !== undefined
    ? {
        // Envoy's fault filter: a gRPC status alone answers HTTP 200 carrying that status.
        httpStatus: a.httpStatus ?? 200,
        grpcStatus: a.grpcStatus !== undefined ? GRPC_STATUS[a.grpcStatus] : undefined,
        grpcStatusName: a.grpcStatus,
        perMillion: a.percentage !== undefined ? perMillion(a.percentage.value) : 0,
      }
    : undefined;
  if ((delay === undefined || delay.perMillion === 0) && (abort === undefined || abort.perMillion === 0)) return undefined;
  return Object.freeze({ delay: delay?.perMillion ? Object.freeze(delay) : undefined, abort: abort?.perMillion ? Object.freeze(abort) : undefined });
}

function mirrorDecision(dest: NonNullable<HTTPRoute['mirror']>, namespace: string, routeName: string, policy: RoutePolicy): RouteDecision {
  return Object.freeze({ host: toFqdn(dest.host, namespace), subset: dest.subset, port: dest.port?.number, routeName, policy });
}

function compileMirrors(route: HTTPRoute, namespace: string, routeName: string): MirrorPolicy[] {
  // A copy is sent once (no retries, never mirrored again), within the route's timeout as Envoy's shadow.
  const copyPolicy: RoutePolicy = Object.freeze({ timeoutMs: ms(route.timeout), retry: undefined, fault: undefined, mirrors: Object.freeze([]) });
  const out: MirrorPolicy[] = [];
  if (route.mirror !== undefined) {
    const share = route.mirrorPercentage !== undefined ? perMillion(route.mirrorPercentage.value) : route.mirrorPercent !== undefined ? route.mirrorPercent * 10_000 : 1_000_000;
    if (share > 0) out.push({ decision: mirrorDecision(route.mirror, namespace, routeName, copyPolicy), perMillion: share });
  }
  for (const m of route.mirrors ?? []) {
    const share = m.percentage !== undefined ? perMillion(m.percentage.value) : 1_000_000;
    if (share > 0) out.push({ decision: mirrorDecision(m.destination, namespace, routeName, copyPolicy), perMillion: share });
  }
  return out;
}

/** The policy of one http route; DEFAULT_ROUTE_POLICY itself when the route sets none of its fields. */
export function compileRoutePolicy(route: HTTPRoute, namespace: string, routeName: string): RoutePolicy {
  if (route.timeout === undefined && route.retries === undefined && route.fault === undefined && route.mirror === undefined && route.mirrors === undefined) {
    return DEFAULT_ROUTE_POLICY;
  }
  return Object.freeze({
    timeoutMs: ms(route.timeout),
    retry: compileRetry(route),
    fault: compileFault(route),
    mirrors: Object.freeze(compileMirrors(route, namespace, routeName)),
  });
}

/** The hosts a route's mirrors send to (to subscribe them with the route's destinations). */
export function mirrorHosts(policy: RoutePolicy): string[] {
  return policy.mirrors.map((m) => m.decision.host);
}
