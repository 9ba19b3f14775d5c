// Config resources in Istio's own shape. Only the fields Weft supports are typed; validation
// (validate.ts) rejects every other field with its path.

export interface ObjectMeta {
  name: string;
  namespace: string;
  /** Store revision of the last write; set by weftd. */
  resourceVersion?: string;
  /** RFC 3339; set by weftd on create. */
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Istio's StringMatch: exactly one of exact, prefix, regex (RE2-style, full match). */
export type StringMatch = { exact: string } | { prefix: string } | { regex: string };

export interface HTTPMatchRequest {
  name?: string;
  uri?: StringMatch;
  method?: StringMatch;
  /** Header name (lower case) → match; an empty match `{}` tests presence. */
  headers?: Record<string, StringMatch | Record<string, never>>;
  /** Service port the request was addressed to. */
  port?: number;
}

export interface PortSelector { number: number }

export interface Destination {
  host: string;
  subset?: string;
  port?: PortSelector;
}

export interface HTTPRouteDestination {
  destination: Destination;
  weight?: number;
}

export interface HTTPRoute {
  name?: string;
  match?: HTTPMatchRequest[];
  route: HTTPRouteDestination[];
}

export interface VirtualServiceSpec {
  hosts: string[];
  gateways?: string[];
  http?: HTTPRoute[];
}

export type SimpleLB = 'UNSPECIFIED' | 'LEAST_CONN' | 'RANDOM' | 'ROUND_ROBIN' | 'LEAST_REQUEST';

export interface LoadBalancerSettings { simple?: SimpleLB }

export interface TrafficPolicy { loadBalancer?: LoadBalancerSettings }

export interface Subset {
  name: string;
  labels?: Record<string, string>;
  trafficPolicy?: TrafficPolicy;
}

export interface DestinationRuleSpec {
  host: string;
  trafficPolicy?: TrafficPolicy;
  subsets?: Subset[];
}

export interface ResourceOf<K extends string, S> {
  apiVersion: string;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
}

export type VirtualService = ResourceOf<'VirtualService', VirtualServiceSpec>;
export type DestinationRule = ResourceOf<'DestinationRule', DestinationRuleSpec>;
export type Resource = VirtualService | DestinationRule;
export type ResourceKind = Resource['kind'];

export interface KindInfo {
  kind: ResourceKind;
  group: string;
  apiVersions: readonly string[];
  plural: string;
  singular: string;
  shortNames: readonly string[];
}

export const KINDS: readonly KindInfo[] = [
  {
    kind: 'VirtualService',
    group: 'networking.istio.io',
    apiVersions: ['v1', 'v1beta1', 'v1alpha3'],
    plural: 'virtualservices',
    singular: 'virtualservice',
    shortNames: ['vs'],
  },
  {
    kind: 'DestinationRule',
    group: 'networking.istio.io',
    apiVersions: ['v1', 'v1beta1', 'v1alpha3'],
    plural: 'destinationrules',
    singular: 'destinationrule',
    shortNames: ['dr'],
  },
];

/**
 * Finds a kind by any name a kubectl/istioctl user would type: `VirtualService`, `virtualservice`,
 * `virtualservices`, `vs`, `virtualservices.networking.istio.io`.
 */
export function lookupKind(name: string): KindInfo | undefined {
  const n = name.toLowerCase();
  for (const k of KINDS) {
    const names = [k.kind.toLowerCase(), k.plural, k.singular, ...k.shortNames];
    if (names.includes(n) || names.some((x) => n === `${x}.${k.group}`)) return k;
  }
  return undefined;
}

/** `<kind>/<namespace>/<name>`: the store key of a resource. */
export function resourceKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

export const DEFAULT_NAMESPACE = 'default';
