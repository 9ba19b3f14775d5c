// Host names as Istio reads them: `reviews` (in the namespace of whoever names it), `reviews.bookinfo`
// and `reviews.bookinfo.svc.cluster.local` all name one service. Weft keys everything by the FQDN.
import { quote } from './errors.js';
import { MAX_HOST_LENGTH, MAX_LABEL_NAME_LENGTH, MAX_LABEL_VALUE_LENGTH } from './limits.js';

export const CLUSTER_DOMAIN = 'svc.cluster.local';
const SUFFIX = '.' + CLUSTER_DOMAIN;

export interface ServiceName {
  service: string;
  namespace: string;
  fqdn: string;
}

/**
 * Resolves a host as written in a URL or a rule to its FQDN. `contextNamespace` is the namespace of
 * the caller (URLs) or of the rule (VirtualService.hosts, destination.host).
 */
export function toFqdn(host: string, contextNamespace: string): string {
  const h = host.toLowerCase();
  if (h.endsWith(SUFFIX)) return h;
  const dot = h.indexOf('.');
  if (dot < 0) return `${h}.${contextNamespace}${SUFFIX}`;
  if (h.indexOf('.', dot + 1) < 0) return h + SUFFIX; // service.namespace
  return h; // some other DNS name: taken as written
}

/** Splits an FQDN of the cluster domain into service and namespace; undefined for other names. */
export function parseFqdn(fqdn: string): ServiceName | undefined {
  if (!fqdn.endsWith(SUFFIX)) return undefined;
  const head = fqdn.slice(0, -SUFFIX.length);
  const parts = head.split('.');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { service: parts[0], namespace: parts[1], fqdn };
}

export function serviceFqdn(service: string, namespace: string): string {
  return `${service}.${namespace}${SUFFIX}`.toLowerCase();
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** True for a valid DNS-1123 label (Kubernetes names of services and namespaces). */
export function isDnsLabel(s: string): boolean {
  return s.length > 0 && s.length <= 63 && DNS_LABEL.test(s);
}

/** True for a valid DNS-1123 subdomain (Kubernetes resource names). */
export function isDnsSubdomain(s: string): boolean {
  return s.length > 0 && s.length <= 253 && s.split('.').every(isDnsLabel);
}

// ── Host names in rules, as Istio validates them ───────────────────────────────────────────────

const MAX_DNS_LABEL_LENGTH = 63;
/** A DNS-1123 label as Istio reads it in hosts: letters (either case), digits and '-' inside. */
const HOST_LABEL = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
/** Istio's wildcard first label: `*`, or `*`/`*-` followed by a label (`*.example.com`, `*-svc.ns`). */
const WILDCARD_LABEL = /^(\*|(\*|\*-)?[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * Where a host is written, since Istio allows different forms in each: VirtualService `hosts` (an
 * IPv4 address too; not the bare `*`, as every Weft VirtualService is bound to the mesh),
 * DestinationRule `host`, and `route[].destination.host` (not the bare `*`).
 */
export type HostField = 'virtualService' | 'destinationRule' | 'destination';

/**
 * Why `host` is not a host name Weft accepts in `field`, or undefined. Istio's syntax first
 * (ValidateWildcardDomain: DNS-1123 labels of at most 63 characters, at most 253 in all, a wildcard
 * only as the first label, no all-numeric last label), then what Weft does not support yet
 * (wildcards, a trailing dot).
 */
export function hostProblem(host: string, field: HostField): string | undefined {
  if (host.length === 0) return 'must not be empty';
  if (host.length > MAX_HOST_LENGTH) return `is ${host.length} characters long; a host name has at most ${MAX_HOST_LENGTH}`;
  if (field === 'virtualService' && IPV4.test(host)) return undefined;
  const notValid = `${quote(host)} is not a valid host name`;
  const bad = /[^-a-zA-Z0-9.*]/.exec(host);
  if (bad) return `${notValid}: ${quote(bad[0])} at position ${bad.index} is not allowed (letters, digits, '-' and '.' only, e.g. reviews or reviews.bookinfo.svc.cluster.local)`;
  if (host === '*') {
    return field === 'destinationRule'
      ? 'wildcard hosts are not supported by Weft yet'
      : field === 'virtualService'
        ? 'the wildcard host * is not allowed in a VirtualService bound to the mesh (Weft binds every VirtualService to the mesh)'
        : 'a destination host cannot be the wildcard *';
  }
  const labels = host.split('.');
  if (labels.length > 1 && labels[labels.length - 1] === '') {
    return `${notValid}: write it without the trailing dot (${quote(host.slice(0, -1))})`;
  }
  for (const [i, label] of labels.entries()) {
    if (label.length === 0) return `${notValid}: it has an empty label (two dots in a row, or a leading dot)`;
    if (label.length > MAX_DNS_LABEL_LENGTH) return `${notValid}: label ${i + 1} is ${label.length} characters long; a label has at most ${MAX_DNS_LABEL_LENGTH}`;
    if (!(i === 0 ? WILDCARD_LABEL : HOST_LABEL).test(label)) {
      const wildcard = label.includes('*') ? (i === 0 ? "; a wildcard is '*' or '*' followed by a label, e.g. *.example.com" : '; a wildcard may only be the first label') : '';
      return `${notValid}: label ${quote(label)} must start and end with a letter or digit${wildcard}`;
    }
  }
  if (labels.length > 1 && /^\d+$/.test(labels[labels.length - 1]!)) {
    return `${notValid}: the last label must not be all digits${field === 'virtualService' ? ' (an IP address must be a complete IPv4 address)' : ''}`;
  }
  if (host.includes('*')) return 'wildcard hosts are not supported by Weft yet';
  return undefined;
}

// ── Label and annotation keys and values, as Kubernetes validates them ─────────────────────────

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Why `key` is not a Kubernetes label or annotation key (`[prefix/]name`), or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const shape = "a key is [prefix/]name: name at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit; prefix a DNS subdomain";
  if (prefix !== undefined && !isDnsSubdomain(prefix)) return `${quote(key)} is not a valid key: prefix ${quote(prefix)} is not a DNS subdomain (${shape})`;
  if (name.length === 0) return `${quote(key)} is not a valid key: the name part is empty (${shape})`;
  if (name.length > MAX_LABEL_NAME_LENGTH) return `${quote(key)} is not a valid key: the name part is ${name.length} characters long (${shape})`;
  if (!QUALIFIED_NAME.test(name)) return `${quote(key)} is not a valid key (${shape})`;
  return undefined;
}

/** Why `value` is not a Kubernetes label value (empty, or a qualified name of at most 63), or undefined. */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > MAX_LABEL_VALUE_LENGTH) return `is ${value.length} characters long; a label value has at most ${MAX_LABEL_VALUE_LENGTH}`;
  if (!QUALIFIED_NAME.test(value)) return `${quote(value)} is not a valid label value (letters, digits, '-', '_' and '.', starting and ending with a letter or digit)`;
  return undefined;
}
