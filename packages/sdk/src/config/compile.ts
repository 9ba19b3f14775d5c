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

/** What one VirtualService contributes: a route table for each of its hosts, and where they send. */
interface VirtualServicePiece {
  kind: 'VirtualService';
  tables: HostRoutes[];
  destinations: readonly string[];
}

/** What one DestinationRule contributes: its compiled form for its host. */
interface DestinationRulePiece {
  kind: 'DestinationRule';
  namespace: string;
  rule: CompiledDestinationRule;
}

interface CacheEntry {
  version: string;
  specJson: string;
  createdMs: number;
  /** `<namespace>/<name>`: the tie-break when two resources were created in the same millisecond. */
  name: string;
  piece: VirtualServicePiece | DestinationRulePiece;
}

/**
 * Decoded and compiled resources of the previous update, by kind/namespace/name. A snapshot usually
 * differs from the last one in a resource or two; the rest are not parsed, validated or compiled
 * again, so an update costs in proportion to what changed plus a few map insertions per resource.
 * An entry is reused only when its resourceVersion, creation time and spec text are all the same, so a
 * store rewritten by another weftd (versions restarting) cannot bring back a stale entry. Entries of
 * resources that left the snapshot are dropped on the next successful compile; a rejected update
 * leaves the cache as it was.
 */
export class DecodeCache {
  private entries = new Map<string, CacheEntry>();
  private next: Map<string, CacheEntry> | undefined;

  /** Starts a compile: entries not touched before commit() are dropped. */
  begin(): void {
    this.next = new Map();
  }

  decode(msg: ResourceMsg): CacheEntry {
    const key = `${msg.kind}/${msg.namespace}/${msg.name}`;
    let entry = this.entries.get(key);
    if (entry === undefined || entry.version !== msg.version || entry.specJson !== msg.specJson || entry.createdMs !== msg.createdMs) {
      entry = {
        version: msg.version,
        specJson: msg.specJson,
        createdMs: msg.createdMs,
        name: `${msg.namespace}/${msg.name}`,
        piece: compilePiece(decodeResource(msg)),
      };
    }
    this.next?.set(key, entry);
    return entry;
  }

  /** The compile succeeded: the entries it used become the cache. */
  commit(): void {
    if (this.next) this.entries = this.next;
    this.next = undefined;
  }

  get size(): number {
    return this.entries.size;
  }
}

function compilePiece(resource: Resource): VirtualServicePiece | DestinationRulePiece {
  const ns = resource.metadata.namespace;
  const source = `${ns}/${resource.metadata.name}`;
  if (resource.kind === 'DestinationRule') {
    return { kind: 'DestinationRule', namespace: ns, rule: compileDestinationRule(toFqdn(resource.spec.host, ns), resource) };
  }
  const routes = compileVirtualServiceRoutes(resource);
  const destinations = [...new Set(routes.flatMap((r) => r.destinations.map((d) => d.host)))];
  const hosts = [...new Set(resource.spec.hosts.map((h) => toFqdn(h, ns)))];
  return { kind: 'VirtualService', tables: hosts.map((host) => ({ host, source, routes })), destinations };
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

/** Older first, then by namespace/name: the resource that wins when several claim one host. */
function byAge(a: CacheEntry, b: CacheEntry): number {
  if (a.createdMs !== b.createdMs) return a.createdMs - b.createdMs;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function compileConfig(
  version: string,
  resources: readonly ResourceMsg[],
  callerNamespace: string,
  cache: DecodeCache = new DecodeCache(),
): CompiledConfig {
  const virtualServices: CacheEntry[] = [];
  const destinationRules: CacheEntry[] = [];
  cache.begin();
  for (const msg of resources) {
    const entry = cache.decode(msg);
    (entry.piece.kind === 'VirtualService' ? virtualServices : destinationRules).push(entry);
  }
  virtualServices.sort(byAge);
  destinationRules.sort(byAge);

  const routes = new Map<string, HostRoutes>();
  const routedHosts = new Map<string, readonly string[]>();
  for (const { piece } of virtualServices) {
    if (piece.kind !== 'VirtualService') continue;
    for (const table of piece.tables) {
      if (routes.has(table.host)) continue; // an older VirtualService already owns it
      routes.set(table.host, table);
      routedHosts.set(table.host, piece.destinations);
    }
  }

  const config: CompiledConfig = {
    version,
    routes,
    destinationRules: chooseDestinationRules(destinationRules, callerNamespace),
    routedHosts,
  };
  cache.commit();
  return config;
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

/** Istio's lookup order for a host: a rule in the caller's namespace, then in the host's, then the oldest. */
function chooseDestinationRules(rules: readonly CacheEntry[], callerNamespace: string): Map<string, CompiledDestinationRule> {
  const chosen = new Map<string, { rank: number; rule: CompiledDestinationRule }>();
  for (const { piece } of rules) {
    if (piece.kind !== 'DestinationRule') continue;
    const host = piece.rule.host;
    const rank = piece.namespace === callerNamespace ? 0 : piece.namespace === host.split('.')[1] ? 1 : 2;
    const best = chosen.get(host);
    if (best === undefined || rank < best.rank) chosen.set(host, { rank, rule: piece.rule }); // oldest first, so ties keep the older
  }
  const out = new Map<string, CompiledDestinationRule>();
  for (const [host, { rule }] of chosen) out.set(host, rule);
  return out;
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
