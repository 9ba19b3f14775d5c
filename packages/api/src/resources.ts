// Config resources in Istio's own shape. Only the fields Weft supports are typed; validation
// (validate.ts) rejects every other field with its path. Each kind lives in its own file under kinds/.
import type { KindInfoOf } from './kinds/kind.js';
import { KIND_DEFINITIONS } from './kinds/index.js';
import type { AuthorizationPolicy } from './kinds/authorization-policy.js';
import type { DestinationRule } from './kinds/destination-rule.js';
import type { PeerAuthentication } from './kinds/peer-authentication.js';
import type { VirtualService } from './kinds/virtual-service.js';

export type { ObjectMeta, ResourceOf } from './kinds/kind.js';
export type { Destination, HTTPMatchRequest, HTTPRoute, HTTPRouteDestination, PortSelector, StringMatch, VirtualService, VirtualServiceSpec } from './kinds/virtual-service.js';
export type { ClientTlsMode, ClientTlsSettings, DestinationRule, DestinationRuleSpec, LoadBalancerSettings, SimpleLB, Subset, TrafficPolicy } from './kinds/destination-rule.js';
export type {
  AuthorizationAction,
  AuthorizationCondition,
  AuthorizationOperation,
  AuthorizationPolicy,
  AuthorizationPolicySpec,
  AuthorizationRule,
  AuthorizationSource,
} from './kinds/authorization-policy.js';

export type { MtlsMode, PeerAuthentication, PeerAuthenticationSpec } from './kinds/peer-authentication.js';

export type Resource = VirtualService | DestinationRule | AuthorizationPolicy | PeerAuthentication;
export type ResourceKind = Resource['kind'];

export type KindInfo = KindInfoOf<ResourceKind>;

/** Every kind Weft accepts; each is defined (names, schema, checks) in its own file under kinds/. */
export const KINDS: readonly KindInfo[] = KIND_DEFINITIONS.map((d) => d.info);
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
