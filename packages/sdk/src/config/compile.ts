// Compiles one config resource into the immutable pieces the route tables are made of (the tables
// themselves are assembled in config-compiler.ts). Every resource is decoded and validated by
// @weft/api first: one the SDK cannot read fails with a reason naming kind, namespace/name and field
// path, so the caller can NACK the update and keep the last good config in force.
import {
  isValidationError,
  toFqdn,
  validateResource,
  type ClientTlsSettings,
  type DestinationRule,
  type HTTPMatchRequest,
  type HTTPRoute,
  type Resource,
  type ResourceMsg,
  type VirtualService,
} from '@weft/api';
import { canonicalBalancerName, getBalancer } from '../balancer/index.js';
import { compileAuthorizationPolicy, type CompiledAuthorizationPolicy } from './authorization-policy.js';
import { compilePeerAuthentication, type CompiledPeerAuthentication } from './peer-authentication.js';
import { compileStringMatch } from './string-match.js';
import { AUTO_MTLS } from './compiled.js';
import { compileTrafficPolicy, TrafficPolicyError } from './compile-traffic-policy.js';
import type { CompiledTrafficPolicy } from './traffic-policy.js';
import { compileRoutePolicy, mirrorHosts } from './compile-route-policy.js';
import { compileRetryLimits } from './compile-retry-limits.js';
import { compileRouteActions } from './compile-route-actions.js';
import { compileMatchConditions, compileUriMatch, rewriteLengthOf } from './match-conditions.js';
import { NO_RETRY_LIMITS } from './route-policy.js';
import type {
  ClientTls,
  CompiledDestinationRule,
  CompiledMatch,
  CompiledRoute,
  CompiledSubset,
  HeaderMatcher,
  HostRoutes,
  RouteDecision,
} from './compiled.js';

/** Why a config update cannot be applied; the message is what the NACK carries. */
export class ConfigRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigRejectedError';
  }
}

/** What one VirtualService contributes: a route table for each of its hosts, and where they send. */
export interface VirtualServicePiece {
  kind: 'VirtualService';
  tables: HostRoutes[];
  destinations: readonly string[];
}

/** What one DestinationRule contributes: its compiled form for its host. */
export interface DestinationRulePiece {
  kind: 'DestinationRule';
  namespace: string;
  rule: CompiledDestinationRule;
}

/** What one AuthorizationPolicy contributes: its matchers, for the workloads it selects. */
export interface AuthorizationPolicyPiece {
  kind: 'AuthorizationPolicy';
  policy: CompiledAuthorizationPolicy;
}

/** What one PeerAuthentication contributes: its modes, for the workloads it applies to. */
export interface PeerAuthenticationPiece {
  kind: 'PeerAuthentication';
  policy: CompiledPeerAuthentication;
}

export type CompiledPiece = VirtualServicePiece | DestinationRulePiece | AuthorizationPolicyPiece | PeerAuthenticationPiece;

/** Decodes, validates and compiles one resource; throws ConfigRejectedError naming it and the field path. */
export function compileResource(msg: ResourceMsg): CompiledPiece {
  const resource = decodeResource(msg);
  const ns = resource.metadata.namespace;
  const source = `${ns}/${resource.metadata.name}`;
  if (resource.kind === 'DestinationRule') {
    return { kind: 'DestinationRule', namespace: ns, rule: compileDestinationRule(toFqdn(resource.spec.host, ns), resource) };
  }
  if (resource.kind === 'AuthorizationPolicy') return { kind: 'AuthorizationPolicy', policy: compileAuthorizationPolicy(resource) };
  if (resource.kind === 'PeerAuthentication') return { kind: 'PeerAuthentication', policy: compilePeerAuthentication(resource, msg.createdMs) };
  const routes = compileVirtualServiceRoutes(resource);
  // A redirect or direct response sends nowhere: its decision names no host to subscribe.
  const destinations = [...new Set(routes.flatMap((r) => [...r.destinations.flatMap((d) => (d.actions?.answer ? [] : [d.host])), ...mirrorHosts(r.destinations[0]!.policy!)]))];
  const hosts = [...new Set(resource.spec.hosts.map((h) => toFqdn(h, ns)))];
  return { kind: 'VirtualService', tables: hosts.map((host) => ({ host, source, routes })), destinations };
}

/** `Kind namespace/name`, for messages about a resource. */
export function describeResource(msg: ResourceMsg): string {
  return `${msg.kind || '<no kind>'} ${msg.namespace || '<no namespace>'}/${msg.name || '<no name>'}`;
}

/** JSON.parse + validateResource; throws ConfigRejectedError naming the resource and the field path. */
export function decodeResource(msg: ResourceMsg): Resource {
  let spec: unknown;
  try {
    spec = JSON.parse(msg.specJson);
  } catch (e) {
    throw new ConfigRejectedError(`${describeResource(msg)}: spec: not valid JSON (${(e as Error).message})`);
  }
  const doc = {
    apiVersion: msg.apiVersion,
    kind: msg.kind,
    metadata: { name: msg.name, namespace: msg.namespace },
    spec,
  };
  try {
    return validateResource(doc);
  } catch (e) {
    if (isValidationError(e)) {
      const reasons = e.issues.map((i) => `${i.path ? i.path + ': ' : ''}${i.message}`).join('; ');
      throw new ConfigRejectedError(`${describeResource(msg)}: ${reasons}`);
    }
    throw e;
  }
}

function compileVirtualServiceRoutes(vs: VirtualService): CompiledRoute[] {
  const ns = vs.metadata.namespace;
  return (vs.spec.http ?? []).map((route, i) => compileRoute(route, route.name ?? `${ns}/${vs.metadata.name}#${i}`, ns));
}

function compileRoute(route: HTTPRoute, name: string, namespace: string): CompiledRoute {
  const policy = compileRoutePolicy(route, namespace, name);
  const actions = compileRouteActions(route);
  // A redirect or direct response has one decision, with its answer and no destination (host '').
  const dests = actions[0]?.answer ? [undefined] : (route.route ?? []);
  const destinations: RouteDecision[] = dests.map((d, i) => ({
    host: d === undefined ? '' : toFqdn(d.destination.host, namespace),
    subset: d?.destination.subset,
    port: d?.destination.port?.number,
    routeName: name,
    policy,
    actions: actions[i],
  }));
  // Istio: one destination takes all traffic whatever its weight; with several, an omitted weight is 0.
  const weights = dests.length === 1 ? [1] : dests.map((d) => d?.weight ?? 0);
  const cumulativeWeights: number[] = [];
  let total = 0;
  for (const w of weights) cumulativeWeights.push((total += w));
  return {
    name,
    matches: (route.match ?? []).map(compileMatch),
    destinations,
    cumulativeWeights,
    totalWeight: total,
  };
}

function compileMatch(m: HTTPMatchRequest): CompiledMatch {
  const headers: HeaderMatcher[] = Object.entries(m.headers ?? {}).map(([name, match]) => ({
    name,
    test: match && Object.keys(match).length > 0 ? compileStringMatch(match as Parameters<typeof compileStringMatch>[0]) : undefined,
  }));
  return {
    uri: m.uri ? compileUriMatch(m.uri, m.ignoreUriCase === true) : undefined,
    method: m.method ? compileStringMatch(m.method) : undefined,
    headers,
    port: m.port,
    more: compileMatchConditions(m),
    rewriteLength: rewriteLengthOf(m),
  };
}

function balancerOf(simple: string | undefined, fallback: string, path: string, rule: DestinationRule): string {
  const name = simple === undefined ? fallback : canonicalBalancerName(simple);
  if (!getBalancer(name)) {
    throw new ConfigRejectedError(
      `DestinationRule ${rule.metadata.namespace}/${rule.metadata.name}: ${path}: no balancer registered as ${JSON.stringify(name)}`,
    );
  }
  return name;
}

function compileDestinationRule(host: string, rule: DestinationRule): CompiledDestinationRule {
  const source = `${rule.metadata.namespace}/${rule.metadata.name}`;
  const balancer = balancerOf(rule.spec.trafficPolicy?.loadBalancer?.simple, canonicalBalancerName(undefined), 'spec.trafficPolicy.loadBalancer.simple', rule);
  const tls = compileClientTls(rule.spec.trafficPolicy?.tls, AUTO_MTLS, `DestinationRule ${source}: spec.trafficPolicy.tls`);
  const retryLimits = compileRetryLimits(rule.spec.trafficPolicy, NO_RETRY_LIMITS, `DestinationRule ${source}`);
  const subsets = new Map<string, CompiledSubset>();
  (rule.spec.subsets ?? []).forEach((s, i) => {
    subsets.set(s.name, {
      name: s.name,
      labels: Object.entries(s.labels ?? {}),
      balancer: balancerOf(s.trafficPolicy?.loadBalancer?.simple, balancer, `spec.subsets[${i}].trafficPolicy.loadBalancer.simple`, rule),
      tls: compileClientTls(s.trafficPolicy?.tls, tls, `DestinationRule ${source}: spec.subsets[${i}].trafficPolicy.tls`),
      traffic: s.trafficPolicy === undefined ? undefined : trafficPolicyOf(s.trafficPolicy, source, `spec.subsets[${i}].trafficPolicy`),
      retryLimits: compileRetryLimits(s.trafficPolicy, retryLimits, `DestinationRule ${source} subset ${s.name}`),
    });
  });
  return { host, source, balancer, tls, retryLimits, subsets, traffic: trafficPolicyOf(rule.spec.trafficPolicy, source, 'spec.trafficPolicy') };
}

/** The trafficPolicy parts clusters are built from: balancing, connection pool, outlier detection, tls per port. */
function trafficPolicyOf(policy: DestinationRule['spec']['trafficPolicy'], source: string, path: string): CompiledTrafficPolicy {
  try {
    return compileTrafficPolicy(policy, `DestinationRule ${source}`, path, (tls, where) => (tls?.mode === undefined ? undefined : compileClientTls(tls, AUTO_MTLS, where)));
  } catch (e) {
    throw e instanceof TrafficPolicyError ? new ConfigRejectedError(e.message) : e;
  }
}

/**
 * A tls setting with a mode replaces the inherited one as a whole (Istio merges a subset's tls that way);
 * without a mode it carries nothing else (validated) and the inherited setting stays. No file is read
 * here: a file is the calling machine's business, checked when a connection is made, so a missing one
 * fails the requests that need it and never the whole config.
 */
function compileClientTls(settings: ClientTlsSettings | undefined, inherited: ClientTls, source: string): ClientTls {
  const mode = settings?.mode;
  if (mode === undefined) return inherited;
  if (mode !== 'SIMPLE' && mode !== 'MUTUAL') return mode === AUTO_MTLS.mode ? AUTO_MTLS : { mode, origination: undefined };
  const fields = {
    mode,
    clientCertificate: settings!.clientCertificate,
    privateKey: settings!.privateKey,
    caCertificates: settings!.caCertificates,
    caCrl: settings!.caCrl,
    subjectAltNames: Object.freeze([...(settings!.subjectAltNames ?? [])]),
    sni: settings!.sni?.toLowerCase(),
    insecureSkipVerify: settings!.insecureSkipVerify === true,
  };
  const origination = Object.freeze({ ...fields, source, key: JSON.stringify([source, ...Object.values(fields)]) });
  return Object.freeze({ mode, origination });
}
