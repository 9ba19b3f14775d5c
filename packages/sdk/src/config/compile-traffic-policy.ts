// Compiles one trafficPolicy (of a DestinationRule or of one of its subsets) into the layers of
// traffic-policy.ts: Istio's defaults filled in, durations parsed, names checked, once per config update.
// @weft/api has validated the structure and meaning already; what can still fail here is a balancer
// name no one registered (a custom one removed since).
import { parseDuration, type ClientTlsSettings, type TrafficPolicy } from '@weft/api';
import { canonicalBalancerName, getBalancer } from '../balancer/index.js';
import type { ClientTls } from './compiled.js';
import type {
  CompiledTrafficPolicy,
  ConnectionPoolLimits,
  ConsistentHashSettings,
  HashKeySource,
  LoadBalancing,
  OutlierSettings,
  PolicyLayer,
} from './traffic-policy.js';

type LoadBalancerSettings = NonNullable<TrafficPolicy['loadBalancer']>;
type ConnectionPoolSettings = NonNullable<TrafficPolicy['connectionPool']>;
type OutlierDetection = NonNullable<TrafficPolicy['outlierDetection']>;

/** Istio's mesh-wide connectTimeout default. */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Envoy's default max_ejection_time, which Istio leaves as it is (raised to the base ejection time when that is longer). */
const DEFAULT_MAX_EJECTION_TIME_MS = 300_000;

/** Thrown for a setting the SDK cannot run with; compile.ts turns it into the NACK's reason. */
export class TrafficPolicyError extends Error {}

/**
 * `where` names the resource (`DestinationRule shop/cart`), `path` the policy (`spec.trafficPolicy`);
 * `tlsOf` compiles a tls setting the way compile.ts does (undefined when it sets no mode).
 */
export function compileTrafficPolicy(
  policy: TrafficPolicy | undefined,
  where: string,
  path: string,
  tlsOf: (settings: ClientTlsSettings | undefined, source: string) => ClientTls | undefined,
): CompiledTrafficPolicy {
  const layer = compileLayer(policy, where, path, tlsOf);
  const ports = new Map<number, PolicyLayer>();
  policy?.portLevelSettings?.forEach((p, i) => {
    // Istio uses the first entry of a port (the api refuses a second one).
    if (!ports.has(p.port.number)) ports.set(p.port.number, compileLayer(p, where, `${path}.portLevelSettings[${i}]`, tlsOf));
  });
  return { layer, ports };
}

function compileLayer(
  p: Pick<TrafficPolicy, 'loadBalancer' | 'connectionPool' | 'outlierDetection' | 'tls'> | undefined,
  where: string,
  path: string,
  tlsOf: (settings: ClientTlsSettings | undefined, source: string) => ClientTls | undefined,
): PolicyLayer {
  if (p === undefined) return {};
  const layer: { -readonly [K in keyof PolicyLayer]: PolicyLayer[K] } = {};
  if (p.loadBalancer !== undefined) layer.loadBalancing = compileLoadBalancing(p.loadBalancer, where, `${path}.loadBalancer`);
  if (p.connectionPool !== undefined) layer.connectionPool = compileConnectionPool(p.connectionPool, `${where}: ${path}.connectionPool`);
  if (p.outlierDetection !== undefined) layer.outlierDetection = compileOutlierDetection(p.outlierDetection, `${where}: ${path}.outlierDetection`);
  const tls = tlsOf(p.tls, `${where}: ${path}.tls`);
  if (tls !== undefined) layer.tls = tls;
  return Object.freeze(layer);
}

export function compileLoadBalancing(lb: LoadBalancerSettings, where: string, path: string): LoadBalancing {
  const ch = lb.consistentHash;
  let consistentHash: ConsistentHashSettings | undefined;
  let balancer: string;
  if (ch !== undefined) {
    const maglev = ch.maglev !== undefined;
    consistentHash = Object.freeze({
      key: hashKeyOf(ch),
      algorithm: maglev ? 'MAGLEV' : 'RING_HASH',
      minimumRingSize: ch.ringHash?.minimumRingSize || ch.minimumRingSize || 1024,
      tableSize: ch.maglev?.tableSize || 65537,
    });
    balancer = consistentHash.algorithm;
  } else {
    balancer = canonicalBalancerName(lb.simple);
    if (!getBalancer(balancer)) throw new TrafficPolicyError(`${where}: ${path}.simple: no balancer registered as ${JSON.stringify(balancer)}`);
  }
  const warmupDuration = lb.warmup?.duration ?? lb.warmupDurationSecs;
  const warmup = warmupDuration === undefined
    ? undefined
    : Object.freeze({ durationMs: parseDuration(warmupDuration), minimumFraction: (lb.warmup?.minimumPercent ?? 10) / 100, aggression: lb.warmup?.aggression ?? 1 });
  return Object.freeze({ balancer, consistentHash, warmup, key: JSON.stringify([balancer, consistentHash, warmup]) });
}

function hashKeyOf(ch: NonNullable<LoadBalancerSettings['consistentHash']>): HashKeySource {
  if (ch.httpHeaderName !== undefined) return { kind: 'header', name: ch.httpHeaderName };
  if (ch.httpQueryParameterName !== undefined) return { kind: 'query', name: ch.httpQueryParameterName };
  if (ch.useSourceIp) return { kind: 'sourceIp' };
  const c = ch.httpCookie!;
  return {
    kind: 'cookie',
    name: c.name,
    path: c.path || undefined,
    ttlMs: c.ttl === undefined ? undefined : parseDuration(c.ttl),
    attributes: (c.attributes ?? []).map((a) => (a.value === undefined || a.value === '' ? `; ${a.name}` : `; ${a.name}=${a.value}`)).join(''),
  };
}

/** Istio applies a limit only when it is greater than 0; unset and 0 leave Envoy's (unlimited) default. */
const limit = (n: number | undefined): number => (n !== undefined && n > 0 ? n : Infinity);

export function compileConnectionPool(cp: ConnectionPoolSettings, source: string): ConnectionPoolLimits {
  const maxConnections = limit(cp.tcp?.maxConnections);
  const maxRequestsPerConnection = cp.http?.maxRequestsPerConnection ?? 0;
  const connectTimeoutMs = cp.tcp?.connectTimeout === undefined ? DEFAULT_CONNECT_TIMEOUT_MS : parseDuration(cp.tcp.connectTimeout);
  // Istio: http.idleTimeout, else tcp.idleTimeout.
  const idle = cp.http?.idleTimeout ?? cp.tcp?.idleTimeout;
  const idleTimeoutMs = idle === undefined ? undefined : parseDuration(idle);
  const poolParts = [
    maxConnections === Infinity ? '' : `c${maxConnections}`,
    maxRequestsPerConnection === 0 ? '' : `r${maxRequestsPerConnection}`,
    connectTimeoutMs === DEFAULT_CONNECT_TIMEOUT_MS ? '' : `t${connectTimeoutMs}`,
    idleTimeoutMs === undefined ? '' : `i${idleTimeoutMs}`,
  ];
  const settings = {
    maxConnections,
    maxPendingRequests: limit(cp.http?.http1MaxPendingRequests),
    maxRequests: limit(cp.http?.http2MaxRequests),
    maxRequestsPerConnection,
    connectTimeoutMs,
    idleTimeoutMs,
  };
  return Object.freeze({ ...settings, source, poolKey: poolParts.join(''), key: JSON.stringify(Object.values(settings).map(String)) });
}

export function compileOutlierDetection(od: OutlierDetection, source: string): OutlierSettings {
  const baseEjectionTimeMs = od.baseEjectionTime === undefined ? 30_000 : parseDuration(od.baseEjectionTime);
  const split = od.splitExternalLocalOriginErrors === true;
  const settings = {
    consecutive5xxErrors: od.consecutive5xxErrors ?? 5,
    consecutiveGatewayErrors: od.consecutiveGatewayErrors ?? 0,
    consecutiveLocalOriginFailures: split ? (od.consecutiveLocalOriginFailures || 5) : 0,
    splitExternalLocalOriginErrors: split,
    intervalMs: od.interval === undefined ? 10_000 : parseDuration(od.interval),
    baseEjectionTimeMs,
    maxEjectionTimeMs: Math.max(DEFAULT_MAX_EJECTION_TIME_MS, baseEjectionTimeMs),
    // Istio passes maxEjectionPercent on only when it is greater than 0: 0 means Envoy's 10.
    maxEjectionPercent: od.maxEjectionPercent || 10,
    minHealthPercent: od.minHealthPercent ?? 0,
  };
  return Object.freeze({ ...settings, source, key: JSON.stringify(Object.values(settings)) });
}
