// The compiled, immutable form of the config the client pipeline reads. Built once per ConfigUpdate
// (compile.ts); per request the route stage only does map lookups and runs precompiled matchers.
import type { ClientTlsMode } from '@weft/api';
import type { ValueMatcher } from './string-match.js';
import { DEFAULT_PEER_AUTHENTICATION, type WorkloadPeerAuthentication } from './peer-authentication.js';
import { NO_AUTHORIZATION, type WorkloadAuthorization } from './workload-authorization.js';

/** Where the route stage sends a request: a host, optionally a subset and a port. Precomputed per destination. */
export interface RouteDecision {
  readonly host: string;
  readonly subset: string | undefined;
  readonly port: number | undefined;
  /** The HTTPRoute's name, or `<vs namespace>/<vs name>#<index>`, or `default` when no VirtualService applies. */
  readonly routeName: string;
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

export interface CompiledSubset {
  readonly name: string;
  readonly labels: ReadonlyArray<readonly [string, string]>;
  /** Canonical balancer name (subset policy, else the rule's, else LEAST_REQUEST). */
  readonly balancer: string;
  /** trafficPolicy.tls.mode (subset policy, else the rule's, else ISTIO_MUTUAL: auto-mTLS). */
  readonly tlsMode: ClientTlsMode;
}

export interface CompiledDestinationRule {
  readonly host: string;
  /** `<namespace>/<name>` of the DestinationRule in force for this host. */
  readonly source: string;
  readonly balancer: string;
  readonly tlsMode: ClientTlsMode;
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
