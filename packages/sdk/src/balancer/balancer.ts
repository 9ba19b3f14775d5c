// Load balancers, registered by name as in grpc-js. A balancer turns the endpoint list of one
// cluster into an immutable Picker; the mesh rebuilds the Picker only when the endpoints, their health
// (outlier ejection) or the config of that cluster change, so pick() is the only per-request work.
import type { LoadBalancing } from '../config/traffic-policy.js';
import type { Endpoint } from './endpoint.js';

/** What a pick may depend on besides the endpoints. */
export interface PickContext {
  /** The request's hash for consistent-hash balancers (undefined: the request has no key). */
  readonly hash?: number;
  /**
   * Endpoints this call already tried (a retry): a balancer that can, picks another (the ring walks on,
   * as Envoy's previous-hosts predicate makes it); the pick stage falls back to any other endpoint.
   */
  readonly avoid?: ReadonlySet<Endpoint>;
}

export interface Picker {
  /** The endpoint for the next request, or undefined when the cluster has none. */
  pick(ctx?: PickContext): Endpoint | undefined;
  /**
   * The time an endpoint took to answer (headers or failure), for balancers that learn from latency
   * (PEAK_EWMA); absent on the others, so the pick stage measures nothing for them.
   */
  observe?(endpoint: Endpoint, latencyMs: number): void;
}

/** The cluster's loadBalancer settings a balancer may read (consistent hash sizes, warmup). */
export interface BalancerOptions {
  readonly loadBalancing?: LoadBalancing;
  /** Milliseconds on a monotonic clock (performance.now); tests pass their own. */
  readonly now?: () => number;
}

/** Builds a Picker over a non-empty or empty endpoint list; must not keep a reference it mutates. */
export type BalancerFactory = (endpoints: readonly Endpoint[], options?: BalancerOptions) => Picker;

const balancers = new Map<string, BalancerFactory>();

/** Registers (or replaces) a balancer under a name as DestinationRule `loadBalancer.simple` spells it. */
export function registerBalancer(name: string, factory: BalancerFactory): void {
  if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new TypeError(`balancer name must be UPPER_SNAKE_CASE, got ${JSON.stringify(name)}`);
  balancers.set(name, factory);
}

/** Istio's aliases: UNSPECIFIED and the deprecated LEAST_CONN both mean LEAST_REQUEST. */
const ALIASES: Readonly<Record<string, string>> = { UNSPECIFIED: 'LEAST_REQUEST', LEAST_CONN: 'LEAST_REQUEST' };

export const DEFAULT_BALANCER = 'LEAST_REQUEST';

export function canonicalBalancerName(name: string | undefined): string {
  if (!name) return DEFAULT_BALANCER;
  return ALIASES[name] ?? name;
}

export function getBalancer(name: string): BalancerFactory | undefined {
  return balancers.get(canonicalBalancerName(name));
}

/** Used for clusters with no endpoints, whatever the policy. */
export const EMPTY_PICKER: Picker = { pick: () => undefined };
