// Validation of Istio resources: structure first (every field must be one Weft knows; a field Istio
// has but Weft does not support yet is named as such), then meaning (weights, regexes, subsets).
// Errors carry the field path, e.g. `spec.http[0].match[0].uri.regex`.
import { ValidationError, type Issue } from './errors.js';
import { compileIstioRegex } from './regex.js';
import { isDnsLabel, isDnsSubdomain, toFqdn } from './hosts.js';
import {
  DEFAULT_NAMESPACE,
  KINDS,
  type DestinationRule,
  type Resource,
  type ResourceKind,
  type VirtualService,
} from './resources.js';

type Schema =
  | { t: 'string'; nonEmpty?: boolean }
  | { t: 'int'; min?: number; max?: number }
  | { t: 'enum'; values: readonly string[]; unsupported?: readonly string[] }
  | { t: 'array'; of: Schema; nonEmpty?: boolean }
  | { t: 'map'; of: Schema }
  | { t: 'object'; fields: Record<string, Schema>; required?: readonly string[]; unsupported?: readonly string[]; ignored?: readonly string[] }
  | { t: 'stringMatch' }
  | { t: 'headerMatch' };

const str: Schema = { t: 'string' };
const nonEmptyStr: Schema = { t: 'string', nonEmpty: true };
const port: Schema = { t: 'int', min: 1, max: 65535 };
const stringMap: Schema = { t: 'map', of: str };

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
  fields: { host: nonEmptyStr, subset: nonEmptyStr, port: { t: 'object', fields: { number: port }, required: ['number'] } },
  required: ['host'],
};

const httpMatch: Schema = {
  t: 'object',
  fields: {
    name: str,
    uri: { t: 'stringMatch' },
    method: { t: 'stringMatch' },
    headers: { t: 'map', of: { t: 'headerMatch' } },
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
      of: { t: 'object', fields: { destination, weight: { t: 'int', min: 0 } }, required: ['destination'], unsupported: ['headers'] },
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
    fields: { hosts: { t: 'array', of: nonEmptyStr, nonEmpty: true }, gateways: { t: 'array', of: nonEmptyStr }, http: { t: 'array', of: httpRoute } },
    required: ['hosts'],
    unsupported: ['tls', 'tcp', 'exportTo'],
  },
  DestinationRule: {
    t: 'object',
    fields: {
      host: nonEmptyStr,
      trafficPolicy,
      subsets: {
        t: 'array',
        of: { t: 'object', fields: { name: nonEmptyStr, labels: stringMap, trafficPolicy }, required: ['name'] },
      },
    },
    required: ['host'],
    unsupported: ['exportTo', 'workloadSelector'],
  },
};

const metadataSchema: Schema = {
  t: 'object',
  fields: { name: nonEmptyStr, namespace: nonEmptyStr, labels: stringMap, annotations: stringMap },
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

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
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
    if (k !== 'exact' && k !== 'prefix' && k !== 'regex') {
      issues.push({ path: join(path, k), message: `unknown field (a StringMatch has exact, prefix or regex)` });
    } else if (typeof v[k] !== 'string') {
      issues.push({ path: join(path, k), message: `must be a string, got ${typeName(v[k])}` });
    }
  }
  if (keys.length > 1) issues.push({ path, message: `set exactly one of exact, prefix, regex; got ${keys.join(', ')}` });
  if (typeof v.regex === 'string') {
    try {
      compileIstioRegex(v.regex);
    } catch (e) {
      issues.push({ path: join(path, 'regex'), message: `invalid regular expression ${JSON.stringify(v.regex)}: ${(e as Error).message}` });
    }
  }
}

function check(v: unknown, schema: Schema, path: string, issues: Issue[]): void {
  switch (schema.t) {
    case 'string':
      if (typeof v !== 'string') issues.push({ path, message: `must be a string, got ${typeName(v)}` });
      else if (schema.nonEmpty && v.length === 0) issues.push({ path, message: 'must not be empty' });
      return;
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
      else if (!schema.values.includes(v)) issues.push({ path, message: `unknown value ${JSON.stringify(v)}; must be one of ${schema.values.join(', ')}` });
      return;
    case 'array':
      if (!Array.isArray(v)) {
        issues.push({ path, message: `must be a list, got ${typeName(v)}` });
        return;
      }
      if (schema.nonEmpty && v.length === 0) issues.push({ path, message: 'must not be empty' });
      v.forEach((item, i) => check(item, schema.of, `${path}[${i}]`, issues));
      return;
    case 'map':
      if (!isPlainObject(v)) {
        issues.push({ path, message: `must be a map, got ${typeName(v)}` });
        return;
      }
      for (const [k, item] of Object.entries(v)) check(item, schema.of, join(path, k), issues);
      return;
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
        const sub = schema.fields[k];
        if (sub) check(item, sub, join(path, k), issues);
        else if (schema.unsupported?.includes(k)) issues.push({ path: join(path, k), message: 'this Istio field is not supported by Weft yet' });
        else if (!schema.ignored?.includes(k)) {
          issues.push({ path: join(path, k), message: `unknown field (known here: ${Object.keys(schema.fields).join(', ')})` });
        }
      }
      for (const r of schema.required ?? []) {
        if (v[r] === undefined || v[r] === null) issues.push({ path: join(path, r), message: 'is required' });
      }
      return;
    }
  }
}

function checkVirtualService(vs: VirtualService, issues: Issue[]): void {
  const spec = vs.spec;
  spec.hosts?.forEach((h, i) => {
    if (typeof h === 'string' && h.includes('*')) issues.push({ path: `spec.hosts[${i}]`, message: 'wildcard hosts are not supported by Weft yet' });
  });
  spec.gateways?.forEach((g, i) => {
    if (g !== 'mesh') issues.push({ path: `spec.gateways[${i}]`, message: `only the reserved gateway "mesh" is supported, got ${JSON.stringify(g)}` });
  });
  spec.http?.forEach((route, r) => {
    route.match?.forEach((m, j) => {
      for (const name of Object.keys(m.headers ?? {})) {
        if (name !== name.toLowerCase()) {
          issues.push({ path: `spec.http[${r}].match[${j}].headers.${name}`, message: 'header names must be lower case' });
        }
      }
    });
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
    if (typeof s.name !== 'string') return;
    if (!isDnsLabel(s.name)) issues.push({ path: `spec.subsets[${i}].name`, message: `${JSON.stringify(s.name)} is not a valid subset name (lower-case letters, digits and '-')` });
    if (seen.has(s.name)) issues.push({ path: `spec.subsets[${i}].name`, message: `duplicate subset ${JSON.stringify(s.name)}` });
    seen.add(s.name);
  });
  if (typeof dr.spec.host === 'string' && dr.spec.host.includes('*')) {
    issues.push({ path: 'spec.host', message: 'wildcard hosts are not supported by Weft yet' });
  }
}

/**
 * Validates one decoded YAML/JSON document and returns it as a typed resource with
 * `metadata.namespace` defaulted. Throws ValidationError listing every problem found.
 */
export function validateResource(doc: unknown, source?: string): Resource {
  const issues: Issue[] = [];
  if (!isPlainObject(doc)) throw new ValidationError([{ path: '', message: `a resource must be a map, got ${typeName(doc)}` }], source);
  const kindInfo = KINDS.find((k) => k.kind === doc.kind);
  if (typeof doc.kind !== 'string') issues.push({ path: 'kind', message: 'is required' });
  else if (!kindInfo) issues.push({ path: 'kind', message: `unsupported kind ${JSON.stringify(doc.kind)}; supported: ${KINDS.map((k) => k.kind).join(', ')}` });
  if (typeof doc.apiVersion !== 'string') issues.push({ path: 'apiVersion', message: 'is required' });
  else if (kindInfo) {
    const ok = kindInfo.apiVersions.map((v) => `${kindInfo.group}/${v}`);
    if (!ok.includes(doc.apiVersion)) issues.push({ path: 'apiVersion', message: `${JSON.stringify(doc.apiVersion)} is not an apiVersion of ${kindInfo.kind}; use one of ${ok.join(', ')}` });
  }
  for (const k of Object.keys(doc)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(k)) issues.push({ path: k, message: 'unknown field (a resource has apiVersion, kind, metadata, spec)' });
  }
  if (doc.metadata === undefined) issues.push({ path: 'metadata', message: 'is required' });
  else check(doc.metadata, metadataSchema, 'metadata', issues);
  const meta = isPlainObject(doc.metadata) ? doc.metadata : {};
  if (typeof meta.name === 'string' && meta.name && !isDnsSubdomain(meta.name)) {
    issues.push({ path: 'metadata.name', message: `${JSON.stringify(meta.name)} is not a valid name (lower-case letters, digits, '-' and '.')` });
  }
  if (typeof meta.namespace === 'string' && meta.namespace && !isDnsLabel(meta.namespace)) {
    issues.push({ path: 'metadata.namespace', message: `${JSON.stringify(meta.namespace)} is not a valid namespace` });
  }
  if (kindInfo) {
    if (doc.spec === undefined) issues.push({ path: 'spec', message: 'is required' });
    else check(doc.spec, SPECS[kindInfo.kind], 'spec', issues);
  }
  if (issues.length === 0) {
    const resource = {
      apiVersion: doc.apiVersion as string,
      kind: kindInfo!.kind,
      metadata: {
        name: meta.name as string,
        namespace: (meta.namespace as string | undefined) ?? DEFAULT_NAMESPACE,
        ...(meta.labels ? { labels: meta.labels as Record<string, string> } : {}),
        ...(meta.annotations ? { annotations: meta.annotations as Record<string, string> } : {}),
      },
      spec: doc.spec,
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
