// DestinationRule trafficPolicy beyond tls: connectionPool (Envoy's circuit breakers), outlierDetection
// (passive health), loadBalancer (simple, consistentHash with ring hash or Maglev, warmup) and
// portLevelSettings, with Istio's own checks (pilot's validateTrafficPolicy) plus the ones that stop a
// field from being silently ignored. Kept apart from destination-rule.ts so the tls checks and these
// stay small; destination-rule.ts plugs them into its trafficPolicy schema.
import { parseDuration } from '../duration.js';
import { quote, type Issue } from '../errors.js';
import { headerNameProblem, port, type Schema, type StringRule } from '../schema.js';

/** Istio's simple policies, plus PEAK_EWMA: a Weft extension (Finagle's and Linkerd's peak-EWMA); Istio's validator refuses it. */
export type SimpleLB = 'UNSPECIFIED' | 'LEAST_CONN' | 'RANDOM' | 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'PEAK_EWMA';

export interface HttpCookie {
  name: string;
  path?: string;
  /** A duration; with it, a cookie is generated (Set-Cookie on the response) when the request has none. */
  ttl?: string;
  attributes?: { name: string; value?: string }[];
}

export interface ConsistentHashLB {
  httpHeaderName?: string;
  httpCookie?: HttpCookie;
  useSourceIp?: boolean;
  httpQueryParameterName?: string;
  ringHash?: { minimumRingSize?: number };
  maglev?: { tableSize: number };
  /** Deprecated by Istio: ringHash.minimumRingSize. */
  minimumRingSize?: number;
}

export interface WarmupConfiguration {
  duration: string;
  /** 0..100, default 10. */
  minimumPercent?: number;
  /** ≥ 1, default 1.0 (linear). */
  aggression?: number;
}

export interface LoadBalancerSettings {
  simple?: SimpleLB;
  consistentHash?: ConsistentHashLB;
  warmup?: WarmupConfiguration;
  /** Deprecated by Istio: warmup.duration. */
  warmupDurationSecs?: string;
}

export interface ConnectionPoolSettings {
  tcp?: { maxConnections?: number; connectTimeout?: string; idleTimeout?: string };
  http?: { http1MaxPendingRequests?: number; http2MaxRequests?: number; maxRequestsPerConnection?: number; idleTimeout?: string; maxRetries?: number };
}

export interface OutlierDetection {
  consecutive5xxErrors?: number;
  consecutiveGatewayErrors?: number;
  consecutiveLocalOriginFailures?: number;
  splitExternalLocalOriginErrors?: boolean;
  interval?: string;
  baseEjectionTime?: string;
  maxEjectionPercent?: number;
  minHealthPercent?: number;
}

/** One entry of portLevelSettings: replaces, for that destination port, what it sets (and resets what it does not). */
export interface PortTrafficPolicy<Tls> {
  port: { number: number };
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  tls?: Tls;
}

/** Envoy's default maximum_ring_size (8M entries): a larger minimum would be refused by Envoy too. */
const MAX_RING_SIZE = 8 * 1024 * 1024;

/** Milliseconds of a duration, or why it is not one; `allowZero` for a cookie's ttl (0: a session cookie). */
function durationProblem(s: string, allowZero: boolean): string | undefined {
  let ms: number;
  try {
    ms = parseDuration(s);
  } catch (e) {
    return (e as Error).message;
  }
  const [, value, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s.trim())!;
  const exact = Number(value) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms'];
  if (Math.abs(exact - ms) > 1e-6) return `${quote(s)} is finer than a millisecond; durations are whole milliseconds`;
  if (ms < 1 && !(allowZero && ms === 0)) return `${quote(s)} must be at least 1ms`;
  return undefined;
}

/** Istio's ValidateDuration: at least 1ms, in whole milliseconds. */
const durationRule: StringRule = (s) => durationProblem(s, false);
const duration: Schema = { t: 'string', nonEmpty: true, rule: durationRule };
/** Istio's uint32 / int32 counts; 0 means the default (unlimited) where Istio says so. */
const count: Schema = { t: 'int', min: 0, max: 2 ** 32 - 1 };
const percent: Schema = { t: 'int', min: 0, max: 100 };

export const connectionPoolSchema: Schema = {
  t: 'object',
  fields: {
    tcp: {
      t: 'object',
      fields: { maxConnections: count, connectTimeout: duration, idleTimeout: duration },
      unsupported: ['tcpKeepalive', 'maxConnectionDuration'],
    },
    http: {
      t: 'object',
      // maxRetries is read by the retry stage (Envoy's max_retries circuit breaker: concurrent retries to the cluster).
      fields: { http1MaxPendingRequests: count, http2MaxRequests: count, maxRequestsPerConnection: count, idleTimeout: duration, maxRetries: count },
      unsupported: ['h2UpgradePolicy', 'useClientProtocol', 'maxConcurrentStreams', 'http2KeepAlive'],
      unsupportedWhy: {
        h2UpgradePolicy: 'Weft speaks HTTP/1.1 between workloads',
        maxConcurrentStreams: 'Weft speaks HTTP/1.1 between workloads (one request per connection at a time)',
        http2KeepAlive: 'Weft speaks HTTP/1.1 between workloads',
        useClientProtocol: 'Weft speaks HTTP/1.1 between workloads',
      },
    },
  },
};

export const outlierDetectionSchema: Schema = {
  t: 'object',
  fields: {
    consecutive5xxErrors: count,
    consecutiveGatewayErrors: count,
    consecutiveLocalOriginFailures: count,
    splitExternalLocalOriginErrors: { t: 'bool' },
    interval: duration,
    baseEjectionTime: duration,
    maxEjectionPercent: percent,
    minHealthPercent: percent,
  },
  unsupported: ['consecutiveErrors'],
  unsupportedWhy: {
    consecutiveErrors: 'it is deprecated and Istio ignores it; use consecutiveGatewayErrors (502, 503, 504) or consecutive5xxErrors',
  },
};

const cookieName: StringRule = (s) => (/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(s) ? undefined : `${quote(s)} is not a cookie name (RFC 6265 token characters only)`);

export const loadBalancerSchema: Schema = {
  t: 'object',
  fields: {
    simple: {
      t: 'enum',
      values: ['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'ROUND_ROBIN', 'LEAST_REQUEST', 'PEAK_EWMA'],
      unsupported: ['PASSTHROUGH'],
    },
    consistentHash: {
      t: 'object',
      fields: {
        httpHeaderName: { t: 'string', nonEmpty: true, rule: headerNameProblem },
        httpCookie: {
          t: 'object',
          fields: {
            name: { t: 'string', nonEmpty: true, rule: cookieName },
            path: { t: 'string', rule: (s) => (/[;\s]/.test(s) ? `${quote(s)} cannot hold ';' or white space (it goes into a Set-Cookie header)` : undefined) },
            ttl: { t: 'string', nonEmpty: true, rule: (s) => durationProblem(s, true) },
            attributes: {
              t: 'array',
              of: {
                t: 'object',
                fields: { name: { t: 'string', nonEmpty: true, rule: cookieName }, value: { t: 'string', rule: (s) => (/[;\r\n]/.test(s) ? `${quote(s)} cannot hold ';' or a line break` : undefined) } },
                required: ['name'],
              },
            },
          },
          required: ['name'],
        },
        useSourceIp: { t: 'bool' },
        httpQueryParameterName: { t: 'string', nonEmpty: true },
        ringHash: { t: 'object', fields: { minimumRingSize: { t: 'int', min: 0, max: MAX_RING_SIZE } } },
        maglev: { t: 'object', fields: { tableSize: { t: 'int', min: 0 } } },
        minimumRingSize: { t: 'int', min: 0, max: MAX_RING_SIZE },
      },
    },
    warmup: {
      t: 'object',
      fields: { duration },
      // Numbers with a fraction: checked in checkLoadBalancer (the schema has integers only).
      ignored: ['minimumPercent', 'aggression'],
      required: ['duration'],
    },
    warmupDurationSecs: duration,
  },
  unsupported: ['localityLbSetting'],
};

/** portLevelSettings[] of a trafficPolicy; `tls` is the ClientTLSSettings schema of destination-rule.ts. */
export function portLevelSettingsSchema(tls: Schema): Schema {
  return {
    t: 'array',
    of: {
      t: 'object',
      fields: {
        port: { t: 'object', fields: { number: port }, required: ['number'] },
        loadBalancer: loadBalancerSchema,
        connectionPool: connectionPoolSchema,
        outlierDetection: outlierDetectionSchema,
        tls,
      },
      required: ['port'],
    },
  };
}

/** Below Istio's limit (5000011) and prime, as Envoy's Maglev needs. */
const MAGLEV_MAX_TABLE = 5000011;

export function isPrime(x: number): boolean {
  if (x < 2) return false;
  if (x < 4) return true;
  if (x % 2 === 0) return false;
  for (let f = 3; f * f <= x; f += 2) if (x % f === 0) return false;
  return true;
}

/** The trafficPolicy parts this file defines, as they arrive (structure already checked). */
interface PolicyParts {
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  portLevelSettings?: PortTrafficPolicy<unknown>[];
}

/** Istio's meaning checks of loadBalancer, connectionPool, outlierDetection and portLevelSettings at `path`. */
export function checkTrafficPolicyParts(policy: PolicyParts | undefined, path: string, issues: Issue[]): void {
  if (policy === undefined) return;
  checkLoadBalancer(policy.loadBalancer, `${path}.loadBalancer`, issues);
  checkConnectionPool(policy.connectionPool, `${path}.connectionPool`, issues);
  checkOutlierDetection(policy.outlierDetection, `${path}.outlierDetection`, issues);
  const seen = new Map<number, number>();
  policy.portLevelSettings?.forEach((p, i) => {
    const at = `${path}.portLevelSettings[${i}]`;
    const first = seen.get(p.port.number);
    if (first !== undefined) {
      issues.push({ path: `${at}.port.number`, message: `port ${p.port.number} is already set by portLevelSettings[${first}]; Istio would use only the first, so merge the two` });
    } else seen.set(p.port.number, i);
    if (p.loadBalancer === undefined && p.connectionPool === undefined && p.outlierDetection === undefined && p.tls === undefined) {
      issues.push({ path: at, message: 'sets nothing for its port; give at least one of loadBalancer, connectionPool, outlierDetection, tls' });
    }
    checkLoadBalancer(p.loadBalancer, `${at}.loadBalancer`, issues);
    checkConnectionPool(p.connectionPool, `${at}.connectionPool`, issues);
    checkOutlierDetection(p.outlierDetection, `${at}.outlierDetection`, issues);
  });
}

function checkConnectionPool(cp: ConnectionPoolSettings | undefined, path: string, issues: Issue[]): void {
  if (cp !== undefined && cp.tcp === undefined && cp.http === undefined) {
    issues.push({ path, message: 'sets nothing; give tcp or http settings (Istio refuses an empty connection pool)' });
  }
}

function checkOutlierDetection(od: OutlierDetection | undefined, path: string, issues: Issue[]): void {
  if (od === undefined) return;
  if (!od.splitExternalLocalOriginErrors && (od.consecutiveLocalOriginFailures ?? 0) > 0) {
    issues.push({
      path: `${path}.consecutiveLocalOriginFailures`,
      message: 'counts only with splitExternalLocalOriginErrors: true (otherwise connection failures and timeouts count as 503 and 504 in consecutive5xxErrors); set it, or remove this field',
    });
  }
}

function checkLoadBalancer(lb: LoadBalancerSettings | undefined, path: string, issues: Issue[]): void {
  if (lb === undefined) return;
  const ch = lb.consistentHash;
  if (ch !== undefined) {
    if (lb.simple !== undefined) {
      issues.push({ path: `${path}.simple`, message: 'cannot be combined with consistentHash (Istio\'s loadBalancer is one of simple or consistentHash); remove one' });
    }
    const keys = (['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'] as const).filter((k) => ch[k] !== undefined);
    if (keys.length === 0) {
      issues.push({ path: `${path}.consistentHash`, message: 'names no hash key; set one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName' });
    } else if (keys.length > 1) {
      issues.push({ path: `${path}.consistentHash`, message: `set exactly one hash key; got ${keys.join(', ')}` });
    } else if (ch.useSourceIp === false) {
      issues.push({ path: `${path}.consistentHash.useSourceIp`, message: 'false selects no hash key; set it to true, or name another key' });
    }
    if (ch.ringHash !== undefined && ch.maglev !== undefined) {
      issues.push({ path: `${path}.consistentHash`, message: 'set one of ringHash and maglev, not both' });
    }
    if ((ch.minimumRingSize ?? 0) !== 0 && (ch.ringHash !== undefined || ch.maglev !== undefined)) {
      issues.push({ path: `${path}.consistentHash.minimumRingSize`, message: 'is the deprecated form of ringHash.minimumRingSize and cannot be combined with ringHash or maglev; remove it' });
    }
    if (ch.maglev !== undefined) {
      const size = ch.maglev.tableSize;
      if (size === undefined || size === 0) issues.push({ path: `${path}.consistentHash.maglev.tableSize`, message: 'must be set for maglev (Istio\'s default table is 65537, a prime)' });
      else if (size >= MAGLEV_MAX_TABLE) issues.push({ path: `${path}.consistentHash.maglev.tableSize`, message: `must be less than ${MAGLEV_MAX_TABLE}, got ${size}` });
      else if (!isPrime(size)) issues.push({ path: `${path}.consistentHash.maglev.tableSize`, message: `must be a prime number, got ${size} (e.g. 65537, 131071)` });
    }
  }
  if (lb.warmup !== undefined && lb.warmupDurationSecs !== undefined) {
    issues.push({ path: `${path}.warmupDurationSecs`, message: 'is the deprecated form of warmup.duration; set one of the two' });
  }
  if (lb.warmup !== undefined || lb.warmupDurationSecs !== undefined) {
    const field = lb.warmup !== undefined ? 'warmup' : 'warmupDurationSecs';
    const simple = lb.simple ?? 'UNSPECIFIED';
    if (ch !== undefined || !['UNSPECIFIED', 'LEAST_CONN', 'LEAST_REQUEST', 'ROUND_ROBIN'].includes(simple)) {
      issues.push({
        path: `${path}.${field}`,
        message: `slow start works with ROUND_ROBIN and LEAST_REQUEST only (Envoy's slow_start_config), not with ${ch !== undefined ? 'consistentHash' : simple}; remove it or change the balancer`,
      });
    }
  }
  const w = lb.warmup as Record<string, unknown> | undefined;
  if (w !== undefined) {
    const min = w.minimumPercent;
    if (min !== undefined && (typeof min !== 'number' || !Number.isFinite(min) || min < 0 || min > 100)) {
      issues.push({ path: `${path}.warmup.minimumPercent`, message: `must be a number from 0 to 100, got ${JSON.stringify(min)}` });
    }
    const aggression = w.aggression;
    if (aggression !== undefined && (typeof aggression !== 'number' || !Number.isFinite(aggression) || aggression < 1)) {
      issues.push({ path: `${path}.warmup.aggression`, message: `must be a number of at least 1 (1 ramps linearly), got ${JSON.stringify(aggression)}` });
    }
  }
}
