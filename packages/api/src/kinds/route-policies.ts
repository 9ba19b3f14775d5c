// The failure-recovery and traffic-management fields of a VirtualService http route (timeout, retries,
// fault, mirror, mirrorPercentage, mirrorPercent, mirrors) and a DestinationRule's retryBudget: their
// types, their schema, and Istio's checks of what they mean (pilot's validateHTTPRoute,
// validateHTTPRetry, validateHTTPFaultInjection, validateHTTPMirrors). Kept out of virtual-service.ts
// and destination-rule.ts so that those files only hook these in.
//
// Istio's `Percent` and `retryBudget.percent` are doubles, which the generic schema has no type for:
// their `value` is let through structurally (`ignored`) and checked here, as a finite number in range.
import { quote, type Issue } from '../errors.js';
import { parseDuration } from '../duration.js';
import { dnsLabel, host, port, type Schema, type StringRule } from '../schema.js';

/** Istio's Percent: `{ value: <double 0..100> }`. */
export interface Percent { value?: number }

/** Istio's HTTPRetry. `attempts` counts retries: at most 1 + attempts requests. */
export interface HTTPRetry {
  attempts?: number;
  perTryTimeout?: string;
  retryOn?: string;
  retryRemoteLocalities?: boolean;
  retryIgnorePreviousHosts?: boolean;
  backoff?: string;
}

export interface HTTPFaultDelay {
  fixedDelay?: string;
  percentage?: Percent;
  /** Deprecated integer percentage (0..100); still used by Istio's request-timeouts task. */
  percent?: number;
}

export interface HTTPFaultAbort {
  httpStatus?: number;
  /** A gRPC status name such as `UNAVAILABLE`; kept for the gRPC edge. */
  grpcStatus?: string;
  percentage?: Percent;
}

export interface HTTPFaultInjection {
  delay?: HTTPFaultDelay;
  abort?: HTTPFaultAbort;
}

export interface MirrorDestination {
  host: string;
  subset?: string;
  port?: { number: number };
}

export interface HTTPMirrorPolicy {
  destination: MirrorDestination;
  percentage?: Percent;
}

/** The route fields this file defines, as they appear on an HTTPRoute. */
export interface HTTPRoutePolicies {
  timeout?: string;
  retries?: HTTPRetry;
  fault?: HTTPFaultInjection;
  mirror?: MirrorDestination;
  mirrorPercentage?: Percent;
  /** Deprecated integer percentage (0..100). */
  mirrorPercent?: number;
  mirrors?: HTTPMirrorPolicy[];
}

/** DestinationRule trafficPolicy.retryBudget (recent Istio): a cap on concurrent retries relative to active requests. */
export interface RetryBudgetPolicy {
  /** Concurrent retries allowed, as a percentage of active requests. Default 20. */
  percent?: number;
  /** Retries allowed at once whatever the percentage gives. Default 3. */
  minRetryConcurrency?: number;
  /** When set, the requests started within this window count instead of the active ones. */
  budgetInterval?: string;
}

/** Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on policies, as Istio's validator lists them. */
export const RETRY_ON_POLICIES: readonly string[] = [
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
];

/** gRPC status names Istio accepts for fault.abort.grpcStatus, by their code. */
export const GRPC_STATUS_CODES: Readonly<Record<string, number>> = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
};

/** The status codes Go's http.StatusText knows: what Istio reads as a status code in retryOn. */
const KNOWN_STATUS = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423,
  424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

/** True when a retryOn token is an HTTP status code (Istio moves those to retriable_status_codes). */
export function isRetryOnStatusCode(token: string): boolean {
  return /^\d{3}$/.test(token) && KNOWN_STATUS.has(Number(token));
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A protobuf Duration as Istio writes it (`500ms`, `2s`), at least 1 ms, whole milliseconds (Istio's ValidateDuration). */
export const durationRule: StringRule = (s) => {
  try {
    parseDuration(s);
  } catch {
    return `${quote(s)} is not a duration; write a number and a unit (ms, s, m, h), e.g. 500ms or 2s`;
  }
  const m = /^([\d.]+)(ms|s|m|h)$/.exec(s.trim())!;
  const exact = Number(m[1]) * UNIT_MS[m[2]!]!;
  if (exact < 1) return `${quote(s)} is shorter than 1ms; Istio requires at least 1ms`;
  if (Math.abs(exact - Math.round(exact)) > 1e-6) return `${quote(s)} is not a whole number of milliseconds; Istio supports durations to ms precision only`;
  return undefined;
};

const duration: Schema = { t: 'string', nonEmpty: true, rule: durationRule };
/** `value` is a double: checked in checkPercent. */
const percent: Schema = { t: 'object', fields: {}, ignored: ['value'] };

const mirrorDestination: Schema = {
  t: 'object',
  fields: { host: host('destination'), subset: dnsLabel('subset name'), port: { t: 'object', fields: { number: port }, required: ['number'] } },
  required: ['host'],
};

/** Schemas of the route fields, merged into the HTTPRoute schema by virtual-service.ts. */
export const ROUTE_POLICY_FIELDS: Readonly<Record<string, Schema>> = {
  timeout: duration,
  retries: {
    t: 'object',
    fields: {
      attempts: { t: 'int', min: 0, max: 2 ** 31 - 1 },
      perTryTimeout: duration,
      retryOn: { t: 'string' },
      retryRemoteLocalities: { t: 'bool' },
      retryIgnorePreviousHosts: { t: 'bool' },
      backoff: duration,
    },
  },
  fault: {
    t: 'object',
    fields: {
      delay: {
        t: 'object',
        fields: { fixedDelay: duration, percentage: percent, percent: { t: 'int', min: 0, max: 100 } },
        unsupported: ['exponentialDelay'],
        unsupportedWhy: { exponentialDelay: 'Istio does not implement it either; use fixedDelay' },
      },
      abort: {
        t: 'object',
        fields: { httpStatus: { t: 'int' }, grpcStatus: { t: 'string', nonEmpty: true }, percentage: percent },
        unsupported: ['http2Error'],
        unsupportedWhy: { http2Error: 'Istio does not implement it either; use httpStatus (or grpcStatus)' },
      },
    },
  },
  mirror: mirrorDestination,
  mirrorPercentage: percent,
  mirrorPercent: { t: 'int', min: 0, max: 100 },
  mirrors: { t: 'array', of: { t: 'object', fields: { destination: mirrorDestination, percentage: percent }, required: ['destination'] } },
};

/** DestinationRule trafficPolicy.retryBudget; `percent` is a double, checked in checkRetryBudget. */
export const RETRY_BUDGET_SCHEMA: Schema = {
  t: 'object',
  fields: { minRetryConcurrency: { t: 'int', min: 0, max: 2 ** 32 - 1 }, budgetInterval: duration },
  ignored: ['percent'],
};

function checkPercentValue(v: unknown, path: string, issues: Issue[]): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v)) issues.push({ path, message: `must be a number from 0 to 100, got ${typeof v === 'string' ? quote(v) : typeof v}` });
  else if (v < 0 || v > 100) issues.push({ path, message: `must be from 0 to 100 (a percentage), got ${v}` });
}

function checkPercent(p: Percent | undefined, path: string, issues: Issue[]): void {
  if (p !== undefined) checkPercentValue(p.value, `${path}.value`, issues);
}

/** Istio's checks of the route's timeout, retries, fault and mirror fields; `path` is the route's (`spec.http[0]`). */
export function checkRoutePolicies(route: HTTPRoutePolicies, path: string, issues: Issue[]): void {
  const r = route.retries;
  if (r !== undefined) {
    const attempts = r.attempts ?? 0;
    if (attempts === 0 && (r.perTryTimeout !== undefined || (r.retryOn ?? '') !== '' || r.retryRemoteLocalities !== undefined)) {
      issues.push({
        path: `${path}.retries.attempts`,
        message: 'is 0 (or not set), which disables retries, but perTryTimeout, retryOn or retryRemoteLocalities is set; set attempts to the number of retries wanted, or remove the retry settings',
      });
    }
    if (r.retryOn !== undefined && r.retryOn !== '') {
      for (const token of r.retryOn.split(',')) {
        if (!RETRY_ON_POLICIES.includes(token) && !isRetryOnStatusCode(token)) {
          issues.push({
            path: `${path}.retries.retryOn`,
            message: `${quote(token)} is not a retryOn policy; use a comma-separated list (no spaces) of HTTP status codes and ${RETRY_ON_POLICIES.join(', ')}`,
          });
        }
      }
    }
  }
  const f = route.fault;
  if (f !== undefined) {
    if (f.delay === undefined && f.abort === undefined) issues.push({ path: `${path}.fault`, message: 'must have a delay, an abort, or both' });
    if (f.delay !== undefined) {
      if (f.delay.fixedDelay === undefined) issues.push({ path: `${path}.fault.delay.fixedDelay`, message: 'is required: how long to delay the requests, e.g. 5s' });
      checkPercent(f.delay.percentage, `${path}.fault.delay.percentage`, issues);
    }
    const a = f.abort;
    if (a !== undefined) {
      checkPercent(a.percentage, `${path}.fault.abort.percentage`, issues);
      if (a.httpStatus !== undefined && a.grpcStatus !== undefined) {
        issues.push({ path: `${path}.fault.abort`, message: 'set one of httpStatus and grpcStatus, not both' });
      } else if (a.httpStatus === undefined && a.grpcStatus === undefined) {
        issues.push({ path: `${path}.fault.abort`, message: 'needs httpStatus (e.g. 503) or grpcStatus (e.g. UNAVAILABLE): what the aborted requests answer' });
      }
      if (a.httpStatus !== undefined && (a.httpStatus < 200 || a.httpStatus > 599)) {
        issues.push({ path: `${path}.fault.abort.httpStatus`, message: `HTTP status ${a.httpStatus} is not in range 200-599` });
      }
      if (a.grpcStatus !== undefined && !Object.hasOwn(GRPC_STATUS_CODES, a.grpcStatus)) {
        issues.push({ path: `${path}.fault.abort.grpcStatus`, message: `${quote(a.grpcStatus)} is not a gRPC status name; use one of ${Object.keys(GRPC_STATUS_CODES).join(', ')}` });
      }
    }
  }
  checkPercent(route.mirrorPercentage, `${path}.mirrorPercentage`, issues);
  route.mirrors?.forEach((m, i) => checkPercent(m.percentage, `${path}.mirrors[${i}].percentage`, issues));
}

/** Istio's checks of a DestinationRule's trafficPolicy.retryBudget at `path`. */
export function checkRetryBudget(budget: RetryBudgetPolicy | undefined, path: string, issues: Issue[]): void {
  if (budget !== undefined) checkPercentValue(budget.percent, `${path}.percent`, issues);
}
