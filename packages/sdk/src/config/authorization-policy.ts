// Compiles one AuthorizationPolicy into predicates over a request, once per config change: every value
// form (exact `abc`, prefix `abc*`, suffix `*abc`, presence `*`), port and CIDR is decided here, so
// a request costs only comparisons.
//
// Plaintext requests have no principal and no namespace. As in Istio, a rule naming principals or
// namespaces (or a source.principal / source.namespace condition with values) never matches them,
// and the negated forms (notPrincipals, notNamespaces, notValues) always do: Istio's
// ISTIO-SECURITY-2021-004 (https://istio.io/latest/news/security/istio-security-2021-004/) says
// "these mTLS-only fields will never match when the traffic is plain text", and that notNamespaces
// "will be compared to an empty value ... resulting in" a match. Weft keeps exactly that, so a
// policy behaves the same when mTLS arrives.
import {
  conditionHeaderName,
  ipInBlock,
  parseIpBlock,
  type AuthorizationCondition,
  type AuthorizationOperation,
  type AuthorizationPolicy,
  type AuthorizationRule,
  type AuthorizationSource,
  type IpBlock,
} from '@weft/api';
import type { AuthorizationRequest, RequestPredicate } from './authorization-request.js';

export interface CompiledAuthorizationPolicy {
  /** `<namespace>/<name>`. */
  readonly source: string;
  readonly namespace: string;
  readonly action: 'ALLOW' | 'DENY';
  /** selector.matchLabels as pairs; undefined = every workload of the namespace (or of the mesh, in the root namespace). */
  readonly selector: ReadonlyArray<readonly [string, string]> | undefined;
  /** Whether any rule matches the request. Without rules, never (`spec: {}` is allow-nothing). */
  readonly matches: RequestPredicate;
}

type ValueTest = (value: string) => boolean;

const NEVER: RequestPredicate = () => false;
const ALWAYS: RequestPredicate = () => true;

/** Istio's value forms; `*` alone is presence (a non-empty value). */
export function compileValue(pattern: string): ValueTest {
  if (pattern === '*') return (v) => v.length > 0;
  if (pattern.startsWith('*')) {
    const suffix = pattern.slice(1);
    return (v) => v.endsWith(suffix);
  }
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    return (v) => v.startsWith(prefix);
  }
  return (v) => v === pattern;
}

/** True when any of the patterns matches. */
function anyValue(patterns: readonly string[], lowerCase = false): ValueTest {
  const tests = patterns.map((p) => compileValue(lowerCase ? p.toLowerCase() : p));
  if (tests.length === 1) return tests[0]!;
  return (v) => {
    for (const t of tests) if (t(v)) return true;
    return false;
  };
}

/** Istio reads an empty list as a list not set. */
function set<T>(list: readonly T[] | undefined): list is readonly T[] {
  return list !== undefined && list.length > 0;
}

/** All predicates must hold; none given = always. */
function all(preds: RequestPredicate[]): RequestPredicate {
  if (preds.length === 0) return ALWAYS;
  if (preds.length === 1) return preds[0]!;
  return (req) => {
    for (const p of preds) if (!p(req)) return false;
    return true;
  };
}

/** Any predicate may hold; none given = never. */
function any(preds: RequestPredicate[]): RequestPredicate {
  if (preds.length === 0) return NEVER;
  if (preds.length === 1) return preds[0]!;
  return (req) => {
    for (const p of preds) if (p(req)) return true;
    return false;
  };
}

/** `values` (some must match) and `notValues` (none may match) over one optional attribute. */
function valuesOf(get: (req: AuthorizationRequest) => string | undefined, values: readonly string[] | undefined, notValues: readonly string[] | undefined, preds: RequestPredicate[], lowerCase = false): void {
  if (set(values)) {
    const test = anyValue(values, lowerCase);
    preds.push((req) => {
      const v = get(req);
      return v !== undefined && test(v);
    });
  }
  if (set(notValues)) {
    const test = anyValue(notValues, lowerCase);
    preds.push((req) => {
      const v = get(req);
      return v === undefined || !test(v);
    });
  }
}

function blocksOf(values: readonly string[]): IpBlock[] {
  return values.map((v) => {
    const block = parseIpBlock(v);
    // validateResource has refused every value that is not a block; this is a bug guard.
    if (typeof block === 'string') throw new Error(block);
    return block;
  });
}

function ipIn(blocks: readonly IpBlock[]): (ip: Uint8Array) => boolean {
  return (ip) => {
    for (const b of blocks) if (ipInBlock(ip, b)) return true;
    return false;
  };
}

function ipsOf(values: readonly string[] | undefined, notValues: readonly string[] | undefined, preds: RequestPredicate[]): void {
  if (set(values)) {
    const inside = ipIn(blocksOf(values));
    preds.push((req) => req.sourceIp !== undefined && inside(req.sourceIp));
  }
  if (set(notValues)) {
    const inside = ipIn(blocksOf(notValues));
    preds.push((req) => req.sourceIp === undefined || !inside(req.sourceIp));
  }
}

function portsOf(values: readonly string[] | undefined, notValues: readonly string[] | undefined, preds: RequestPredicate[]): void {
  if (set(values)) {
    const ports = new Set(values.map(Number));
    preds.push((req) => ports.has(req.destinationPort));
  }
  if (set(notValues)) {
    const ports = new Set(notValues.map(Number));
    preds.push((req) => !ports.has(req.destinationPort));
  }
}

/** Istio matches hosts case-insensitively, and a value without a port matches the Host header with or without one. */
function hostsOf(values: readonly string[] | undefined, notValues: readonly string[] | undefined, preds: RequestPredicate[]): void {
  const matcher = (patterns: readonly string[]) => {
    const test = anyValue(patterns, true);
    return (req: AuthorizationRequest) => test(req.host) || (req.hostWithoutPort !== req.host && test(req.hostWithoutPort));
  };
  if (set(values)) preds.push(matcher(values));
  if (set(notValues)) {
    const m = matcher(notValues);
    preds.push((req) => !m(req));
  }
}

const principalOf = (req: AuthorizationRequest) => req.principal;
const namespaceOf = (req: AuthorizationRequest) => req.namespace;
const methodOf = (req: AuthorizationRequest) => req.method;
const pathOf = (req: AuthorizationRequest) => req.path;

function compileSource(s: AuthorizationSource): RequestPredicate {
  const preds: RequestPredicate[] = [];
  valuesOf(principalOf, s.principals, s.notPrincipals, preds);
  valuesOf(namespaceOf, s.namespaces, s.notNamespaces, preds);
  ipsOf(s.ipBlocks, s.notIpBlocks, preds);
  // remote.ip is the client address from X-Forwarded-For when Istio trusts proxies in front
  // (numTrustedProxies); with none trusted (its default), it is the connection's peer, as here.
  ipsOf(s.remoteIpBlocks, s.notRemoteIpBlocks, preds);
  return all(preds);
}

function compileOperation(o: AuthorizationOperation): RequestPredicate {
  const preds: RequestPredicate[] = [];
  valuesOf(methodOf, o.methods, o.notMethods, preds);
  valuesOf(pathOf, o.paths, o.notPaths, preds);
  portsOf(o.ports, o.notPorts, preds);
  hostsOf(o.hosts, o.notHosts, preds);
  return all(preds);
}

function headerValue(req: AuthorizationRequest, name: string): string | undefined {
  const v = req.headers[name];
  // Node joins repeated headers with ", " except set-cookie; Envoy matches the values joined with ",".
  return Array.isArray(v) ? v.join(',') : v;
}

function compileCondition(c: AuthorizationCondition): RequestPredicate {
  const preds: RequestPredicate[] = [];
  const header = conditionHeaderName(c.key);
  if (header !== undefined) {
    const name = header.toLowerCase();
    valuesOf((req) => headerValue(req, name), c.values, c.notValues, preds);
  } else if (c.key === 'source.ip' || c.key === 'remote.ip') ipsOf(c.values, c.notValues, preds);
  else if (c.key === 'source.principal') valuesOf(principalOf, c.values, c.notValues, preds);
  else if (c.key === 'source.namespace') valuesOf(namespaceOf, c.values, c.notValues, preds);
  else if (c.key === 'destination.port') portsOf(c.values, c.notValues, preds);
  // validateResource has refused every other key; refusing here too keeps a gap from turning into "allow".
  else throw new Error(`the condition key ${JSON.stringify(c.key)} cannot be evaluated`);
  return all(preds);
}

/** A rule: some `from` source, some `to` operation and every `when` condition; a list not set matches anything. */
function compileRule(r: AuthorizationRule): RequestPredicate {
  const parts: RequestPredicate[] = [];
  if (set(r.from)) parts.push(any(r.from.map((f) => compileSource(f.source))));
  if (set(r.to)) parts.push(any(r.to.map((t) => compileOperation(t.operation))));
  for (const c of r.when ?? []) parts.push(compileCondition(c));
  return all(parts);
}

export function compileAuthorizationPolicy(policy: AuthorizationPolicy): CompiledAuthorizationPolicy {
  const { spec, metadata } = policy;
  const labels = spec.selector?.matchLabels;
  return {
    source: `${metadata.namespace}/${metadata.name}`,
    namespace: metadata.namespace,
    action: spec.action ?? 'ALLOW',
    selector: labels === undefined ? undefined : Object.entries(labels),
    matches: any((spec.rules ?? []).map(compileRule)),
  };
}
