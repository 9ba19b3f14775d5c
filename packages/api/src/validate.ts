// Validation of Istio resources: structure first (every field must be one Weft knows; a field Istio
// has but Weft does not support yet is named as such), then meaning (weights, regexes, subsets).
// Errors carry the field path, e.g. `spec.http[0].match[0].uri.regex`.
//
// Documents come from JSON.parse and YAML, which make every key an own property (`__proto__`
// included), so every lookup of a key from the input is an own-property lookup: a field named
// `constructor` or `__proto__` is the unknown field it is, never a member of Object.prototype.
import { findUnprintable, quote, ValidationError, type Issue } from './errors.js';
import { compileIstioRegex } from './regex.js';
import { hostProblem, isDnsLabel, isDnsSubdomain, labelKeyProblem, labelValueProblem, toFqdn, type HostField } from './hosts.js';
import {
  DEFAULT_NAMESPACE,
  KINDS,
  type DestinationRule,
  type Resource,
  type ResourceKind,
  type VirtualService,
} from './resources.js';

/** Why a string is not acceptable in its field, or undefined. */
type StringRule = (s: string) => string | undefined;

type Schema =
  /** `anyText`: any characters (annotation values); otherwise control characters are refused. */
  | { t: 'string'; nonEmpty?: boolean; rule?: StringRule; anyText?: boolean }
  | { t: 'int'; min?: number; max?: number }
  | { t: 'enum'; values: readonly string[]; unsupported?: readonly string[] }
  | { t: 'array'; of: Schema; nonEmpty?: boolean }
  /** `key` checks each key; `maxBytes` bounds the UTF-8 size of all keys and string values together. */
  | { t: 'map'; of: Schema; key?: StringRule; maxBytes?: number }
  | { t: 'object'; fields: Record<string, Schema>; required?: readonly string[]; unsupported?: readonly string[]; ignored?: readonly string[] }
  | { t: 'stringMatch' }
  | { t: 'headerMatch' };

/** Istio's weights are int32. */
const MAX_WEIGHT = 2 ** 31 - 1;
/** Kubernetes' bound on all annotations of one object together (TotalAnnotationSizeLimitB). */
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

const str: Schema = { t: 'string' };
const nonEmptyStr: Schema = { t: 'string', nonEmpty: true };
const host = (field: HostField): Schema => ({ t: 'string', rule: (s) => hostProblem(s, field) });
const dnsLabel = (what: string): Schema => ({
  t: 'string',
  nonEmpty: true,
  rule: (s) => (isDnsLabel(s) ? undefined : `${quote(s)} is not a valid ${what} (at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit)`),
});
const port: Schema = { t: 'int', min: 1, max: 65535 };
const labelMap: Schema = { t: 'map', key: labelKeyProblem, of: { t: 'string', rule: labelValueProblem } };
const annotationMap: Schema = { t: 'map', key: labelKeyProblem, of: { t: 'string', anyText: true }, maxBytes: MAX_ANNOTATIONS_BYTES };

/** Istio's header names (`^[-_A-Za-z0-9]+$`), in lower case as HTTP/2 and Node deliver them. */
function headerNameProblem(name: string): string | undefined {
  if (name !== name.toLowerCase()) return 'header names must be lower case';
  if (!/^[-_a-z0-9]+$/.test(name)) return `${quote(name)} is not a valid header name (letters, digits, '-' and '_')`;
  return undefined;
}

const loadBalancer: Schema = {
  t: 'object',
  fields: {
    simple: {
      t: 'enum',
      values: ['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'ROUND_ROBIN', 'LEAST_REQUEST'],
      unsupported: ['PASSTHROUGH'],
    },
  },
  unsupported: ['consistentHash', 'localityLbSetting', 'warmup', 'warmupDurationSecs'],
};

const trafficPolicy: Schema = {
  t: 'object',
  fields: { loadBalancer },
  unsupported: ['connectionPool', 'outlierDetection', 'tls', 'portLevelSettings', 'tunnel', 'proxyProtocol', 'retryBudget'],
};

const destination: Schema = {
  t: 'object',
  fields: { host: host('destination'), subset: dnsLabel('subset name'), port: { t: 'object', fields: { number: port }, required: ['number'] } },
  required: ['host'],
};

const httpMatch: Schema = {
  t: 'object',
  fields: {
    name: str,
    uri: { t: 'stringMatch' },
    method: { t: 'stringMatch' },
    headers: { t: 'map', key: headerNameProblem, of: { t: 'headerMatch' } },
    port,
  },
  unsupported: ['scheme', 'authority', 'withoutHeaders', 'queryParams', 'ignoreUriCase', 'sourceLabels', 'sourceNamespace', 'gateways', 'statPrefix'],
};

const httpRoute: Schema = {
  t: 'object',
  fields: {
    name: str,
    match: { t: 'array', of: httpMatch },
    route: {
      t: 'array',
      nonEmpty: true,
      of: { t: 'object', fields: { destination, weight: { t: 'int', min: 0, max: MAX_WEIGHT } }, required: ['destination'], unsupported: ['headers'] },
    },
  },
  required: ['route'],
  unsupported: [
    'redirect', 'directResponse', 'delegate', 'rewrite', 'timeout', 'retries', 'fault', 'mirror', 'mirrorPercentage',
    'mirrorPercent', 'mirrors', 'corsPolicy', 'headers', 'appendHeaders', 'removeResponseHeaders',
    'appendResponseHeaders', 'removeRequestHeaders', 'appendRequestHeaders',
  ],
};

const SPECS: Record<ResourceKind, Schema> = {
  VirtualService: {
    t: 'object',
    fields: { hosts: { t: 'array', of: host('virtualService'), nonEmpty: true }, gateways: { t: 'array', of: nonEmptyStr }, http: { t: 'array', of: httpRoute } },
    required: ['hosts'],
    unsupported: ['tls', 'tcp', 'exportTo'],
  },
  DestinationRule: {
    t: 'object',
    fields: {
      host: host('destinationRule'),
      trafficPolicy,
      subsets: {
        t: 'array',
        of: { t: 'object', fields: { name: dnsLabel('subset name'), labels: labelMap, trafficPolicy }, required: ['name'] },
      },
    },
    required: ['host'],
    unsupported: ['exportTo', 'workloadSelector'],
  },
};

const metadataSchema: Schema = {
  t: 'object',
  fields: {
    name: {
      t: 'string',
      nonEmpty: true,
      rule: (s) => (isDnsSubdomain(s) ? undefined : `${quote(s)} is not a valid name (at most 253 lower-case letters, digits, '-' and '.')`),
    },
    namespace: dnsLabel('namespace'),
    labels: labelMap,
    annotations: annotationMap,
  },
  required: ['name'],
  // Set by the server; `weftctl get -o yaml` output can be applied again unchanged.
  ignored: ['resourceVersion', 'creationTimestamp', 'uid', 'generation', 'managedFields', 'selfLink'],
};

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `a ${typeof v}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The own property `key` of `o`; undefined when `o` has none (inherited members do not count). */
function own(o: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** `a.b` for plain keys; `a["app.kubernetes.io/name"]` for keys a dot path cannot show unambiguously. */
function join(path: string, key: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(key)) return `${path}[${quote(key)}]`;
  return path ? `${path}.${key}` : key;
}

/** A message for text with a control character in it, or undefined. Tabs pass when `allowTab`. */
function unprintableProblem(s: string, allowTab = false): string | undefined {
  const at = findUnprintable(allowTab ? s.replaceAll('\t', ' ') : s);
  if (at < 0) return undefined;
  return `contains the control character ${quote(s[at]!)} at position ${at}; only printable text is accepted here`;
}

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

function checkStringMatch(v: unknown, path: string, issues: Issue[], allowEmpty: boolean): void {
  if (!isPlainObject(v)) {
    issues.push({ path, message: `must be a map with one of exact, prefix, regex; got ${typeName(v)}` });
    return;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) {
    if (!allowEmpty) issues.push({ path, message: 'must set one of exact, prefix, regex' });
    return;
  }
  for (const k of keys) {
    const value = v[k];
    if (k !== 'exact' && k !== 'prefix' && k !== 'regex') {
      issues.push({ path: join(path, k), message: `unknown field (a StringMatch has exact, prefix or regex)` });
    } else if (typeof value !== 'string') {
      issues.push({ path: join(path, k), message: `must be a string, got ${typeName(value)}` });
    } else {
      // HTTP carries no control characters other than tab, so such a match could never match.
      const problem = unprintableProblem(value, true);
      if (problem) issues.push({ path: join(path, k), message: problem });
    }
  }
  if (keys.length > 1) issues.push({ path, message: `set exactly one of exact, prefix, regex; got ${keys.map((k) => quote(k)).join(', ')}` });
  const regex = own(v, 'regex');
  if (typeof regex === 'string') {
    try {
      compileIstioRegex(regex);
    } catch (e) {
      issues.push({ path: join(path, 'regex'), message: `invalid regular expression ${quote(regex)}: ${(e as Error).message}` });
    }
  }
}

function check(v: unknown, schema: Schema, path: string, issues: Issue[]): void {
  switch (schema.t) {
    case 'string': {
      if (typeof v !== 'string') {
        issues.push({ path, message: `must be a string, got ${typeName(v)}` });
        return;
      }
      if (schema.nonEmpty && v.length === 0) {
        issues.push({ path, message: 'must not be empty' });
        return;
      }
      const problem = (schema.anyText ? undefined : unprintableProblem(v)) ?? schema.rule?.(v);
      if (problem) issues.push({ path, message: problem });
      return;
    }
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        issues.push({ path, message: `must be an integer, got ${typeof v === 'number' ? v : typeName(v)}` });
      } else if (schema.min !== undefined && v < schema.min) {
        issues.push({ path, message: `must be at least ${schema.min}, got ${v}` });
      } else if (schema.max !== undefined && v > schema.max) {
        issues.push({ path, message: `must be at most ${schema.max}, got ${v}` });
      }
      return;
    case 'enum':
      if (typeof v !== 'string') issues.push({ path, message: `must be one of ${schema.values.join(', ')}; got ${typeName(v)}` });
      else if (schema.unsupported?.includes(v)) issues.push({ path, message: `${v} is not supported by Weft yet (supported: ${schema.values.join(', ')})` });
      else if (!schema.values.includes(v)) issues.push({ path, message: `unknown value ${quote(v)}; must be one of ${schema.values.join(', ')}` });
      return;
    case 'array':
      if (!Array.isArray(v)) {
        issues.push({ path, message: `must be a list, got ${typeName(v)}` });
        return;
      }
      if (schema.nonEmpty && v.length === 0) issues.push({ path, message: 'must not be empty' });
      v.forEach((item, i) => check(item, schema.of, `${path}[${i}]`, issues));
      return;
    case 'map': {
      if (!isPlainObject(v)) {
        issues.push({ path, message: `must be a map, got ${typeName(v)}` });
        return;
      }
      let bytes = 0;
      for (const [k, item] of Object.entries(v)) {
        const keyProblem = k === '__proto__' ? 'the key __proto__ is not allowed (JavaScript reads it as the prototype of the map)' : schema.key?.(k);
        if (keyProblem) issues.push({ path: join(path, k), message: keyProblem });
        check(item, schema.of, join(path, k), issues);
        if (schema.maxBytes !== undefined) bytes += utf8Length(k) + (typeof item === 'string' ? utf8Length(item) : 0);
      }
      if (schema.maxBytes !== undefined && bytes > schema.maxBytes) {
        issues.push({ path, message: `keys and values take ${bytes} bytes together; at most ${schema.maxBytes} are allowed` });
      }
      return;
    }
    case 'stringMatch':
      checkStringMatch(v, path, issues, false);
      return;
    case 'headerMatch':
      checkStringMatch(v ?? {}, path, issues, true);
      return;
    case 'object': {
      if (!isPlainObject(v)) {
        issues.push({ path, message: `must be a map, got ${typeName(v)}` });
        return;
      }
      for (const [k, item] of Object.entries(v)) {
        const sub = Object.hasOwn(schema.fields, k) ? schema.fields[k] : undefined;
        if (sub) check(item, sub, join(path, k), issues);
        else if (schema.unsupported?.includes(k)) issues.push({ path: join(path, k), message: 'this Istio field is not supported by Weft yet' });
        else if (!schema.ignored?.includes(k)) {
          issues.push({ path: join(path, k), message: `unknown field (known here: ${Object.keys(schema.fields).join(', ')})` });
        }
      }
      for (const r of schema.required ?? []) {
        const value = own(v, r);
        if (value === undefined || value === null) issues.push({ path: join(path, r), message: 'is required' });
      }
      return;
    }
  }
}

function checkVirtualService(vs: VirtualService, issues: Issue[]): void {
  const spec = vs.spec;
  spec.gateways?.forEach((g, i) => {
    if (g !== 'mesh') issues.push({ path: `spec.gateways[${i}]`, message: `only the reserved gateway "mesh" is supported, got ${quote(g)}` });
  });
  spec.http?.forEach((route, r) => {
    const dests = route.route ?? [];
    if (dests.length > 1) {
      const total = dests.reduce((s, d) => s + (typeof d.weight === 'number' ? d.weight : 0), 0);
      if (total === 0) {
        issues.push({ path: `spec.http[${r}].route`, message: 'the weights of these destinations add up to 0, so no request could be routed; give at least one a weight above 0' });
      }
    }
  });
}

function checkDestinationRule(dr: DestinationRule, issues: Issue[]): void {
  const seen = new Set<string>();
  dr.spec.subsets?.forEach((s, i) => {
    if (seen.has(s.name)) issues.push({ path: `spec.subsets[${i}].name`, message: `duplicate subset ${quote(s.name)}` });
    seen.add(s.name);
  });
}

/**
 * Validates one decoded YAML/JSON document and returns it as a typed resource with
 * `metadata.namespace` defaulted. Throws ValidationError listing every problem found.
 */
export function validateResource(doc: unknown, source?: string): Resource {
  const issues: Issue[] = [];
  if (!isPlainObject(doc)) throw new ValidationError([{ path: '', message: `a resource must be a map, got ${typeName(doc)}` }], source);
  const kind = own(doc, 'kind');
  const apiVersion = own(doc, 'apiVersion');
  const metadata = own(doc, 'metadata');
  const spec = own(doc, 'spec');
  const kindInfo = KINDS.find((k) => k.kind === kind);
  if (typeof kind !== 'string') issues.push({ path: 'kind', message: 'is required' });
  else if (!kindInfo) issues.push({ path: 'kind', message: `unsupported kind ${quote(kind)}; supported: ${KINDS.map((k) => k.kind).join(', ')}` });
  if (typeof apiVersion !== 'string') issues.push({ path: 'apiVersion', message: 'is required' });
  else if (kindInfo) {
    const ok = kindInfo.apiVersions.map((v) => `${kindInfo.group}/${v}`);
    if (!ok.includes(apiVersion)) issues.push({ path: 'apiVersion', message: `${quote(apiVersion)} is not an apiVersion of ${kindInfo.kind}; use one of ${ok.join(', ')}` });
  }
  for (const k of Object.keys(doc)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(k)) issues.push({ path: join('', k), message: 'unknown field (a resource has apiVersion, kind, metadata, spec)' });
  }
  if (metadata === undefined) issues.push({ path: 'metadata', message: 'is required' });
  else check(metadata, metadataSchema, 'metadata', issues);
  if (kindInfo) {
    if (spec === undefined) issues.push({ path: 'spec', message: 'is required' });
    else check(spec, SPECS[kindInfo.kind], 'spec', issues);
  }
  if (issues.length === 0) {
    const meta = metadata as Record<string, unknown>;
    const labels = own(meta, 'labels') as Record<string, string> | undefined;
    const annotations = own(meta, 'annotations') as Record<string, string> | undefined;
    const resource = {
      apiVersion,
      kind: kindInfo!.kind,
      metadata: {
        name: own(meta, 'name') as string,
        namespace: (own(meta, 'namespace') as string | undefined) ?? DEFAULT_NAMESPACE,
        ...(labels ? { labels } : {}),
        ...(annotations ? { annotations } : {}),
      },
      spec,
    } as Resource;
    if (resource.kind === 'VirtualService') checkVirtualService(resource, issues);
    else checkDestinationRule(resource, issues);
    if (issues.length === 0) return resource;
  }
  throw new ValidationError(issues, source);
}

/** A reference problem found across resources, with the resource it belongs to. */
export interface ReferenceIssue extends Issue {
  kind: ResourceKind;
  namespace: string;
  name: string;
}

/**
 * Cross-resource checks over the whole config as it would be after a write: every subset a
 * VirtualService routes to must be defined by a DestinationRule for that host.
 */
export function checkReferences(resources: Iterable<Resource>): ReferenceIssue[] {
  const subsets = new Map<string, Set<string>>();
  const all = [...resources];
  for (const r of all) {
    if (r.kind !== 'DestinationRule') continue;
    const host = toFqdn(r.spec.host, r.metadata.namespace);
    const set = subsets.get(host) ?? new Set<string>();
    for (const s of r.spec.subsets ?? []) set.add(s.name);
    subsets.set(host, set);
  }
  const issues: ReferenceIssue[] = [];
  for (const r of all) {
    if (r.kind !== 'VirtualService') continue;
    r.spec.http?.forEach((route, i) => {
      route.route.forEach((d, j) => {
        const subset = d.destination.subset;
        if (!subset) return;
        const host = toFqdn(d.destination.host, r.metadata.namespace);
        if (!subsets.get(host)?.has(subset)) {
          issues.push({
            kind: r.kind,
            namespace: r.metadata.namespace,
            name: r.metadata.name,
            path: `spec.http[${i}].route[${j}].destination.subset`,
            message: `unknown subset ${JSON.stringify(subset)} of host ${host}: no DestinationRule for that host defines it`,
          });
        }
      });
    });
  }
  return issues;
}
