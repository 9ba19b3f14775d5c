// The compiled, immutable failure-recovery and traffic-management policy of one VirtualService http
// route (timeout, retries, fault, mirrors) and a DestinationRule's caps on retries, as the fault,
// mirror, timeout and retry stages read them. Built once per config update (compile-route-policy.ts,
// compile-retry-limits.ts); a request only follows references. Nothing here knows about HTTP bodies
// or undici: the gRPC edge reads the same objects.
import type { RouteDecision } from './compiled.js';

/** Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on conditions, one flag each. */
export interface RetryOn {
  readonly fiveXx: boolean;
  readonly gatewayError: boolean;
  readonly reset: boolean;
  readonly resetBeforeRequest: boolean;
  readonly connectFailure: boolean;
  readonly retriable4xx: boolean;
  readonly refusedStream: boolean;
  /** Retry on the statuses of RetryPolicy.statusCodes (inert with none listed, as in Istio's default). */
  readonly retriableStatusCodes: boolean;
  /** Parsed and kept: Istio gives no way to list the headers, so it matches nothing. */
  readonly retriableHeaders: boolean;
  readonly envoyRatelimited: boolean;
  /** Parsed and kept: Weft does not speak HTTP/3. */
  readonly http3PostConnectFailure: boolean;
  // gRPC statuses (x-envoy-retry-grpc-on), read from a response's grpc-status header.
  readonly cancelled: boolean;
  readonly deadlineExceeded: boolean;
  readonly internal: boolean;
  readonly resourceExhausted: boolean;
  readonly unavailable: boolean;
}

export interface RetryPolicy {
  /** Retries after the first attempt (Istio's `attempts`); at least 1 (0 compiles to no policy). */
  readonly numRetries: number;
  /** Undefined: no per-attempt limit (the route's timeout covers all attempts). */
  readonly perTryTimeoutMs: number | undefined;
  readonly on: RetryOn;
  readonly statusCodes: ReadonlySet<number>;
  /** retryOn as written (or Istio's default), for messages. */
  readonly retryOnText: string;
  /** Envoy's previous-hosts predicate: a retry prefers an endpoint not tried yet. Default true. */
  readonly ignorePreviousHosts: boolean;
  /** Kept: Weft has no localities, so every endpoint is already a candidate. */
  readonly retryRemoteLocalities: boolean;
  /** Jittered exponential backoff: base (default 25 ms) and cap (10 × base), as Envoy. */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

export interface FaultPolicy {
  /** Delay injection; per million requests, as Istio hands it to Envoy. */
  readonly delay: { readonly ms: number; readonly perMillion: number } | undefined;
  /** Abort injection: httpStatus, or 200 with grpcStatus kept for the gRPC edge (as Envoy's fault filter). */
  readonly abort: { readonly httpStatus: number; readonly grpcStatus: number | undefined; readonly grpcStatusName: string | undefined; readonly perMillion: number } | undefined;
}

export interface MirrorPolicy {
  /** Where the copy goes; its policy sends it once, with the route's timeout, never mirrored again. */
  readonly decision: RouteDecision;
  readonly perMillion: number;
}

export interface RoutePolicy {
  /** Undefined: no timeout (Istio's default). */
  readonly timeoutMs: number | undefined;
  /** Undefined: retries disabled (`attempts: 0`). */
  readonly retry: RetryPolicy | undefined;
  readonly fault: FaultPolicy | undefined;
  readonly mirrors: readonly MirrorPolicy[];
}

/** Istio's defaultRetryOn (1.24+: 503 no longer listed, so the last token is inert). */
export const DEFAULT_RETRY_ON_TEXT = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';
export const DEFAULT_BACKOFF_BASE_MS = 25;

/**
 * DestinationRule caps on concurrent retries to one cluster (host and subset), Envoy's retry circuit
 * breakers: connectionPool.http.maxRetries, or (overriding it, as in Envoy) trafficPolicy.retryBudget.
 */
export interface RetryLimits {
  /** connectionPool.http.maxRetries; Infinity when not set (Istio's default 2^32-1). */
  readonly maxRetries: number;
  readonly budget: { readonly percent: number; readonly minRetryConcurrency: number; readonly intervalMs: number } | undefined;
  /** Where the limits are written, for messages. */
  readonly source: string;
}

export const NO_RETRY_LIMITS: RetryLimits = Object.freeze({ maxRetries: Infinity, budget: undefined, source: '' });
