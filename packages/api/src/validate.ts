// Validation of Istio resources: structure first (every field must be one Weft knows; a field Istio
// has but Weft does not support yet is named as such), then meaning (weights, regexes, subsets).
// Errors carry the field path, e.g. `spec.http[0].match[0].uri.regex`. The generic checker is
// schema.ts; each kind's schema and checks of meaning are in its own file under kinds/.
// References across resources (checkReferences) are not errors: Istio accepts its files in any order.
import { quote, ValidationError, type Issue } from './errors.js';
import { isDnsSubdomain, toFqdn } from './hosts.js';
import { kindDefinition, REFUSED_KINDS } from './kinds/index.js';
import { annotationMap, check, dnsLabel, isPlainObject, join, labelMap, own, typeName, type Schema } from './schema.js';
import { DEFAULT_NAMESPACE, KINDS, type Resource, type ResourceKind } from './resources.js';

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
  const definition = typeof kind === 'string' ? kindDefinition(kind) : undefined;
  const kindInfo = definition?.info;
  const supported = KINDS.map((k) => k.kind).join(', ');
  if (typeof kind !== 'string') issues.push({ path: 'kind', message: 'is required' });
  else if (Object.hasOwn(REFUSED_KINDS, kind)) issues.push({ path: 'kind', message: `${quote(kind)} is not supported by Weft yet: ${REFUSED_KINDS[kind]} (supported: ${supported})` });
  else if (!kindInfo) issues.push({ path: 'kind', message: `unsupported kind ${quote(kind)}; supported: ${supported}` });
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
  if (definition) {
    if (spec === undefined) issues.push({ path: 'spec', message: 'is required' });
    else check(spec, definition.spec, 'spec', issues);
  }
  if (issues.length === 0) {
    const meta = metadata as Record<string, unknown>;
    const labels = own(meta, 'labels') as Record<string, string> | undefined;
    const annotations = own(meta, 'annotations') as Record<string, string> | undefined;
    const resource = {
      apiVersion,
      kind: definition!.info.kind,
      metadata: {
        name: own(meta, 'name') as string,
        namespace: (own(meta, 'namespace') as string | undefined) ?? DEFAULT_NAMESPACE,
        ...(labels ? { labels } : {}),
        ...(annotations ? { annotations } : {}),
      },
      spec,
    } as Resource;
    definition!.checkMeaning(resource as never, issues);
    if (issues.length === 0) return resource;
  }
  throw new ValidationError(issues, source);
}

/**
 * Istio's analyzer code for a reference to something that does not exist (ReferencedResourceNotFound).
 * Weft reports these as warnings, as `istioctl analyze` does, never as a reason to refuse a write.
 */
export const REFERENCED_RESOURCE_NOT_FOUND = 'IST0101';

/** A reference problem found across resources, with the resource it belongs to. */
export interface ReferenceIssue extends Issue {
  kind: ResourceKind;
  namespace: string;
  name: string;
  code: typeof REFERENCED_RESOURCE_NOT_FOUND;
}

/**
 * Cross-resource checks over the whole config as it would be after a write: every subset a
 * VirtualService routes to should be defined by a DestinationRule for that host. Istio accepts such a
 * config (resources arrive in any order) and reports it with `istioctl analyze` as IST0101; a request
 * routed to the missing subset gets Envoy's 503 with flag NC (no such cluster) until the rule arrives.
 * The message starts with istioctl's own words, so that users who know them recognise it.
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
      (route.route ?? []).forEach((d, j) => {
        const subset = d.destination.subset;
        if (!subset) return;
        const host = toFqdn(d.destination.host, r.metadata.namespace);
        if (!subsets.get(host)?.has(subset)) {
          issues.push({
            kind: r.kind,
            namespace: r.metadata.namespace,
            name: r.metadata.name,
            path: `spec.http[${i}].route[${j}].destination.subset`,
            code: REFERENCED_RESOURCE_NOT_FOUND,
            message:
              `Referenced host+subset in destinationrule not found: ${JSON.stringify(`${d.destination.host}+${subset}`)}; ` +
              `requests routed there fail with 503 (Envoy flag NC) until a DestinationRule for ${host} defines subset ${JSON.stringify(subset)}`,
          });
        }
      });
    });
  }
  return issues;
}
