// The compiled form of a DestinationRule's trafficPolicy parts that shape a cluster: load balancing
// (simple, consistent hash, warmup), the connection pool's limits (Envoy's circuit breakers), outlier
// detection, and tls. Each trafficPolicy level (rule, subset, and each portLevelSettings entry) compiles
// to a PolicyLayer once per config update; clusterPolicy() merges the layers for one cluster (host,
// subset, port) the way Istio's MergeSubsetTrafficPolicy does, once per cluster build, never per request:
//   1. the rule's layer, or, when a portLevelSettings entry names the port, that entry alone (what it
//      does not set falls back to the defaults, not to the rule: port-level settings do not inherit);
//   2. a subset with a trafficPolicy replaces each of the four parts it sets; a subset portLevelSettings
//      entry for the port replaces all four (what it does not set is reset to the defaults).
import { AUTO_MTLS, type ClientTls } from './compiled.js';

/** Envoy's circuit-breaker thresholds and pool settings of one cluster. */
export interface ConnectionPoolLimits {
  /** tcp.maxConnections: connections busy with a request, across the cluster; Infinity when unset (Istio: 2^32-1). */
  readonly maxConnections: number;
  /** http.http1MaxPendingRequests: requests waiting for a connection, across the cluster; Infinity when unset. */
  readonly maxPendingRequests: number;
  /** http.http2MaxRequests: requests in flight across the cluster (HTTP/1.1 too); Infinity when unset. */
  readonly maxRequests: number;
  /** http.maxRequestsPerConnection: 0 = unlimited; 1 = no keep-alive. */
  readonly maxRequestsPerConnection: number;
  /** tcp.connectTimeout (Istio's default 10 s). */
  readonly connectTimeoutMs: number;
  /** http.idleTimeout, else tcp.idleTimeout; undefined: the server's keep-alive hint (undici's default, 4 s without one). */
  readonly idleTimeoutMs: number | undefined;
  /** Where it is written, for messages: `DestinationRule shop/cart: spec.trafficPolicy.connectionPool`. */
  readonly source: string;
  /** The settings undici pools are built with, as one string; '' for the defaults. Pools are keyed by it. */
  readonly poolKey: string;
  /** Equal for equal settings: the cluster's counters are kept across updates while it is. */
  readonly key: string;
}

/** Envoy's consecutive-error outlier detection as Istio configures it (success-rate ejection is off). */
export interface OutlierSettings {
  /** 0 = off (Istio's default 5). */
  readonly consecutive5xxErrors: number;
  /** 502, 503, 504 only; 0 = off (the default). */
  readonly consecutiveGatewayErrors: number;
  /** Connection failures, resets and timeouts, counted apart only when split; default 5. */
  readonly consecutiveLocalOriginFailures: number;
  readonly splitExternalLocalOriginErrors: boolean;
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  /** Envoy's max_ejection_time (Istio does not set it): max(300 s, base). */
  readonly maxEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
  /** Envoy's healthy_panic_threshold: below this share of healthy endpoints, balance over all of them. */
  readonly minHealthPercent: number;
  readonly source: string;
  readonly key: string;
}

export type HashKeySource =
  | { readonly kind: 'header'; readonly name: string }
  | {
      readonly kind: 'cookie';
      readonly name: string;
      readonly path: string | undefined;
      /** undefined: no cookie is generated; 0: a session cookie. */
      readonly ttlMs: number | undefined;
      /** `; Name=value` pairs appended to a generated Set-Cookie. */
      readonly attributes: string;
    }
  | { readonly kind: 'sourceIp' }
  | { readonly kind: 'query'; readonly name: string };

export interface ConsistentHashSettings {
  readonly key: HashKeySource;
  readonly algorithm: 'RING_HASH' | 'MAGLEV';
  /** ringHash.minimumRingSize (or the deprecated minimumRingSize); Envoy's default 1024. */
  readonly minimumRingSize: number;
  /** maglev.tableSize (a prime); Envoy's default 65537. */
  readonly tableSize: number;
}

/** Envoy's slow_start_config. */
export interface WarmupSettings {
  readonly durationMs: number;
  /** minimumPercent / 100 (default 0.1). */
  readonly minimumFraction: number;
  /** default 1.0 (linear). */
  readonly aggression: number;
}

export interface LoadBalancing {
  /** Canonical balancer name; with consistentHash it is RING_HASH or MAGLEV. */
  readonly balancer: string;
  readonly consistentHash: ConsistentHashSettings | undefined;
  readonly warmup: WarmupSettings | undefined;
  readonly key: string;
}

/** The parts one trafficPolicy level sets; undefined = not set at that level. */
export interface PolicyLayer {
  readonly loadBalancing?: LoadBalancing;
  readonly connectionPool?: ConnectionPoolLimits;
  readonly outlierDetection?: OutlierSettings;
  readonly tls?: ClientTls;
}

/** A trafficPolicy: its own layer and its portLevelSettings entries by port number. */
export interface CompiledTrafficPolicy {
  readonly layer: PolicyLayer;
  readonly ports: ReadonlyMap<number, PolicyLayer>;
}

/** What a cluster (host, subset, port) runs with. */
export interface ClusterPolicy {
  readonly loadBalancing: LoadBalancing;
  readonly connectionPool: ConnectionPoolLimits | undefined;
  readonly outlierDetection: OutlierSettings | undefined;
  readonly tls: ClientTls;
}

export const DEFAULT_LOAD_BALANCING: LoadBalancing = Object.freeze({ balancer: 'LEAST_REQUEST', consistentHash: undefined, warmup: undefined, key: 'LEAST_REQUEST' });

export const DEFAULT_CLUSTER_POLICY: ClusterPolicy = Object.freeze({
  loadBalancing: DEFAULT_LOAD_BALANCING,
  connectionPool: undefined,
  outlierDetection: undefined,
  tls: AUTO_MTLS,
});

/** The rule's and the subset's trafficPolicy (undefined: the level has none) merged for `port` (0: none named). */
export function clusterPolicy(rule: CompiledTrafficPolicy | undefined, subset: CompiledTrafficPolicy | undefined, port: number): ClusterPolicy {
  const base = rule ? (rule.ports.get(port) ?? rule.layer) : {};
  let merged: PolicyLayer = base;
  if (subset) {
    const portLayer = subset.ports.get(port);
    merged = portLayer ?? {
      loadBalancing: subset.layer.loadBalancing ?? base.loadBalancing,
      connectionPool: subset.layer.connectionPool ?? base.connectionPool,
      outlierDetection: subset.layer.outlierDetection ?? base.outlierDetection,
      tls: subset.layer.tls ?? base.tls,
    };
  }
  return {
    loadBalancing: merged.loadBalancing ?? DEFAULT_LOAD_BALANCING,
    connectionPool: merged.connectionPool,
    outlierDetection: merged.outlierDetection,
    tls: merged.tls ?? AUTO_MTLS,
  };
}
