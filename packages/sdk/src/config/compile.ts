// Compiles a ConfigUpdate (the whole snapshot) into immutable route tables, once per update.
// Every resource is decoded and validated by @weft/api first: one the SDK cannot read makes the whole
// update fail with a reason naming kind, namespace/name and field path, so the caller can NACK it
// and keep the last good config in force.
import {
  isValidationError,
  toFqdn,
  validateResource,
  type DestinationRule,
  type HTTPMatchRequest,
  type HTTPRoute,
  type Resource,
  type ResourceMsg,
  type VirtualService,
} from '@weft/api';
import { canonicalBalancerName, getBalancer } from '../balancer/index.js';
import { compileStringMatch } from './string-match.js';
import type {
  CompiledConfig,
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

interface Decoded<R extends Resource> {
  resource: R;
  createdMs: number;
}

function describe(msg: ResourceMsg): string {
  return `${msg.kind || '<no kind>'} ${msg.namespace || '<no namespace>'}/${msg.name || '<no name>'}`;
}

/** JSON.parse + validateResource; throws ConfigRejectedError naming the resource and the field path. */
export function decodeResource(msg: ResourceMsg): Resource {
  let spec: unknown;
  try {
    spec = JSON.parse(msg.specJson);
  } catch (e) {
    throw new ConfigRejectedError(`${describe(msg)}: spec: not valid JSON (${(e as Error).message})`);
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
      throw new ConfigRejectedError(`${describe(msg)}: ${reasons}`);
    }
    throw e;
  }
}

/** Older first, then by name: the resource that wins when several claim one host. */
function byAge<R extends Resource>(a: Decoded<R>, b: Decoded<R>): number {
  if (a.createdMs !== b.createdMs) return a.createdMs - b.createdMs;
  const an = `${a.resource.metadata.namespace}/${a.resource.metadata.name}`;
  const bn = `${b.resource.metadata.namespace}/${b.resource.metadata.name}`;
  return an < bn ? -1 : an > bn ? 1 : 0;
}

export function compileConfig(version: string, resources: readonly ResourceMsg[], callerNamespace: string): CompiledConfig {
  const virtualServices: Decoded<VirtualService>[] = [];
  const destinationRules: Decoded<DestinationRule>[] = [];
  for (const msg of resources) {
    const resource = decodeResource(msg);
    if (resource.kind === 'VirtualService') virtualServices.push({ resource, createdMs: msg.createdMs });
    else destinationRules.push({ resource, createdMs: msg.createdMs });
  }
  virtualServices.sort(byAge);
  destinationRules.sort(byAge);

  const routes = new Map<string, HostRoutes>();
  const routedHosts = new Map<string, readonly string[]>();
  for (const { resource: vs } of virtualServices) {
    const compiled = compileVirtualServiceRoutes(vs);
    const destinations = [...new Set(compiled.flatMap((r) => r.destinations.map((d) => d.host)))];
    for (const h of vs.spec.hosts) {
      const host = toFqdn(h, vs.metadata.namespace);
      if (routes.has(host)) continue; // an older VirtualService already owns it
      routes.set(host, { host, source: `${vs.metadata.namespace}/${vs.metadata.name}`, routes: compiled });
      routedHosts.set(host, destinations);
    }
  }

  return {
    version,
    routes,
    destinationRules: compileDestinationRules(destinationRules, callerNamespace),
    routedHosts,
  };
}

function compileVirtualServiceRoutes(vs: VirtualService): CompiledRoute[] {
  const ns = vs.metadata.namespace;
  return (vs.spec.http ?? []).map((route, i) => compileRoute(route, route.name ?? `${ns}/${vs.metadata.name}#${i}`, ns));
}

function compileRoute(route: HTTPRoute, name: string, namespace: string): CompiledRoute {
  const destinations: RouteDecision[] = route.route.map((d) => ({
    host: toFqdn(d.destination.host, namespace),
    subset: d.destination.subset,
    port: d.destination.port?.number,
    routeName: name,
  }));
  // Istio: one destination takes all traffic whatever its weight; with several, an omitted weight is 0.
  const weights = route.route.length === 1 ? [1] : route.route.map((d) => d.weight ?? 0);
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
    uri: m.uri ? compileStringMatch(m.uri) : undefined,
    method: m.method ? compileStringMatch(m.method) : undefined,
    headers,
    port: m.port,
  };
}

function compileDestinationRules(rules: Decoded<DestinationRule>[], callerNamespace: string): Map<string, CompiledDestinationRule> {
  // Istio's lookup order for a host: a rule in the caller's namespace, then in the host's, then the oldest.
  const byHost = new Map<string, DestinationRule[]>();
  for (const { resource } of rules) {
    const host = toFqdn(resource.spec.host, resource.metadata.namespace);
    const list = byHost.get(host) ?? [];
    list.push(resource); // already oldest first
    byHost.set(host, list);
  }
  const compiled = new Map<string, CompiledDestinationRule>();
  for (const [host, list] of byHost) {
    const hostNamespace = host.split('.')[1];
    const chosen =
      list.find((r) => r.metadata.namespace === callerNamespace) ??
      list.find((r) => r.metadata.namespace === hostNamespace) ??
      list[0]!;
    compiled.set(host, compileDestinationRule(host, chosen));
  }
  return compiled;
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
  const balancer = balancerOf(rule.spec.trafficPolicy?.loadBalancer?.simple, canonicalBalancerName(undefined), 'spec.trafficPolicy.loadBalancer.simple', rule);
  const subsets = new Map<string, CompiledSubset>();
  (rule.spec.subsets ?? []).forEach((s, i) => {
    subsets.set(s.name, {
      name: s.name,
      labels: Object.entries(s.labels ?? {}),
      balancer: balancerOf(s.trafficPolicy?.loadBalancer?.simple, balancer, `spec.subsets[${i}].trafficPolicy.loadBalancer.simple`, rule),
    });
  });
  return { host, source: `${rule.metadata.namespace}/${rule.metadata.name}`, balancer, subsets };
}
