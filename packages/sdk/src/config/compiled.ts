// The compiled, immutable form of the config the client pipeline reads. Built once per ConfigUpdate
// (compile.ts); per request the route stage only does map lookups and runs precompiled matchers.
import type { ClientTlsMode } from '@weft/api';
import type { ValueMatcher } from './string-match.js';
import { DEFAULT_PEER_AUTHENTICATION, type WorkloadPeerAuthentication } from './peer-authentication.js';
import { NO_AUTHORIZATION, type WorkloadAuthorization } from './workload-authorization.js';
import type { CompiledTrafficPolicy } from './traffic-policy.js';
import type { RetryLimits, RoutePolicy } from './route-policy.js';
import type { RouteActions } from './route-actions.js';
import type { MatchConditions } from './match-conditions.js';

/** Where the route stage sends a request: a host, optionally a subset and a port. Precomputed per destination. */
export interface RouteDecision {
  readonly host: string;
  readonly subset: string | undefined;
  readonly port: number | undefined;
  /** The HTTPRoute's name, or `<vs namespace>/<vs name>#<index>`, or `default` when no VirtualService applies. */
  readonly routeName: string;
  /** The route's timeout, retries, fault and mirrors (route-policy.ts); absent: Istio's defaults (DEFAULT_ROUTE_POLICY). */
  readonly policy?: RoutePolicy;
  /** Headers, rewrite, redirect, directResponse (route-actions.ts); absent: the route only routes. */
  readonly actions?: RouteActions;
}

export interface HeaderMatcher {
  readonly name: string;
  /** Undefined = presence test (`{}` in the rule). */
  readonly test: ValueMatcher | undefined;
}

/** One `match` block: every condition must hold (AND). */
export interface CompiledMatch {
  readonly uri: ValueMatcher | undefined;
  readonly method: ValueMatcher | undefined;
  readonly headers: readonly HeaderMatcher[];
  readonly port: number | undefined;
  /** queryParams, withoutHeaders, sourceLabels, sourceNamespace (match-conditions.ts); undefined when the block has none. */
  readonly more: MatchConditions | undefined;
  /** How much of the path `rewrite.uri` replaces when this block matched (match-conditions.ts rewriteLengthOf). */
  readonly rewriteLength: number;
}

export interface CompiledRoute {
  readonly name: string;
  /** Any block matching is enough (OR); empty = the route matches every request. */
  readonly matches: readonly CompiledMatch[];
  readonly destinations: readonly RouteDecision[];
  /** Running sums of the weights, for one random draw per request. */
  readonly cumulativeWeights: readonly number[];
  readonly totalWeight: number;
}

export interface HostRoutes {
  readonly host: string;
  /** `<namespace>/<name>` of the VirtualService in force for this host. */
  readonly source: string;
  readonly routes: readonly CompiledRoute[];
}

/**
 * TLS the caller originates with the user's settings (DestinationRule tls.mode SIMPLE or MUTUAL). The
 * files are paths on this workload's machine, read when a connection is made (client/pem-files.ts).
 */
export interface TlsOrigination {
  readonly mode: 'SIMPLE' | 'MUTUAL';
  /** Where the settings are written, for messages: `DestinationRule shop/ext: spec.trafficPolicy.tls`. */
  readonly source: string;
  readonly clientCertificate: string | undefined;
  readonly privateKey: string | undefined;
  /** Absent: Node's trust store (Istio: the OS's CA certificates). */
  readonly caCertificates: string | undefined;
  readonly caCrl: string | undefined;
  /** Empty: the certificate is checked against the name connected to (sni, else the host). */
  readonly subjectAltNames: readonly string[];
  /** Absent: the host the caller named (no SNI for an IP address). */
  readonly sni: string | undefined;
  readonly insecureSkipVerify: boolean;
  /** Equal for equal settings from one place, and only then: pools are keyed by it, so different settings never share a connection. */
  readonly key: string;
}

/** trafficPolicy.tls as the transport reads it. */
export interface ClientTls {
  /** Absent in the rule: ISTIO_MUTUAL (auto-mTLS). */
  readonly mode: ClientTlsMode;
  /** Set for SIMPLE and MUTUAL, undefined otherwise. */
  readonly origination: TlsOrigination | undefined;
}

/** No tls setting: auto-mTLS where the endpoint accepts it, as Istio. */
export const AUTO_MTLS: ClientTls = Object.freeze({ mode: 'ISTIO_MUTUAL', origination: undefined });

export interface CompiledSubset {
  readonly name: string;
  readonly labels: ReadonlyArray<readonly [string, string]>;
  /** Canonical balancer name (subset policy, else the rule's, else LEAST_REQUEST). */
  readonly balancer: string;
  /** trafficPolicy.tls (the subset's as a whole when it sets a mode, else the rule's, else AUTO_MTLS). */
  readonly tls: ClientTls;
  /** The subset's trafficPolicy for cluster building (traffic-policy.ts); undefined: the subset has none. */
  readonly traffic?: CompiledTrafficPolicy;
  /** Caps on concurrent retries (connectionPool.http.maxRetries, retryBudget); absent: none. */
  readonly retryLimits?: RetryLimits;
}

export interface CompiledDestinationRule {
  readonly host: string;
  /** `<namespace>/<name>` of the DestinationRule in force for this host. */
  readonly source: string;
  readonly balancer: string;
  readonly tls: ClientTls;
  /** The rule's trafficPolicy for cluster building (traffic-policy.ts: merged per subset and port). */
  readonly traffic?: CompiledTrafficPolicy;
  /** Caps on concurrent retries (connectionPool.http.maxRetries, retryBudget); absent: none. */
  readonly retryLimits?: RetryLimits;
  readonly subsets: ReadonlyMap<string, CompiledSubset>;
}

export interface CompiledConfig {
  readonly version: string;
  readonly routes: ReadonlyMap<string, HostRoutes>;
  readonly destinationRules: ReadonlyMap<string, CompiledDestinationRule>;
  /** For each host with a VirtualService, the destination hosts its routes send to (to subscribe them). */
  readonly routedHosts: ReadonlyMap<string, readonly string[]>;
  /** The AuthorizationPolicies in force for this workload's servers. */
  readonly authorization: WorkloadAuthorization;
  /** The PeerAuthentication modes in force for this workload's served ports. */
  readonly peerAuthentication: WorkloadPeerAuthentication;
}

export const EMPTY_CONFIG: CompiledConfig = {
  version: '',
  routes: new Map(),
  destinationRules: new Map(),
  routedHosts: new Map(),
  authorization: NO_AUTHORIZATION,
  peerAuthentication: DEFAULT_PEER_AUTHENTICATION,
};
