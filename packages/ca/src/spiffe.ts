// SPIFFE IDs as Istio uses them: spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>.
// Trust domain and path characters follow the SPIFFE ID spec; namespace and service account follow the
// Kubernetes name rules Istio inherits, so an Istio principal written for Kubernetes matches unchanged.
import { CaError, quoted } from './errors.js';

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

/** A workload identity. Immutable; build one with `spiffeId()` or `parseSpiffeId()` so it is valid. */
export interface SpiffeId {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** `spiffe://<td>/ns/<ns>/sa/<sa>` */
  readonly uri: string;
  /** Istio's principal form, `<td>/ns/<ns>/sa/<sa>` (AuthorizationPolicy `source.principals`). */
  readonly principal: string;
}

const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const MAX_URI = 2048;

export function validateTrustDomain(trustDomain: string): void {
  if (typeof trustDomain !== 'string' || trustDomain.length === 0 || trustDomain.length > 255 || !TRUST_DOMAIN.test(trustDomain)) {
    throw new CaError('INVALID_SPIFFE_ID', `trust domain ${quoted(String(trustDomain))} is not valid: use 1-255 lower-case letters, digits, '.', '-' or '_' (for example "cluster.local")`);
  }
}

function validateNamespace(namespace: string): void {
  if (typeof namespace !== 'string' || namespace.length > 63 || !DNS_LABEL.test(namespace)) {
    throw new CaError('INVALID_SPIFFE_ID', `namespace ${quoted(String(namespace))} is not valid: use a DNS label (1-63 lower-case letters, digits and '-', starting and ending with a letter or digit)`);
  }
}

function validateServiceAccount(serviceAccount: string): void {
  if (typeof serviceAccount !== 'string' || serviceAccount.length > 253 || !DNS_SUBDOMAIN.test(serviceAccount)) {
    throw new CaError('INVALID_SPIFFE_ID', `service account ${quoted(String(serviceAccount))} is not valid: use a DNS subdomain (1-253 lower-case letters, digits, '-' and '.')`);
  }
}

/** The identity of a service account in a namespace; throws INVALID_SPIFFE_ID naming the bad part. */
export function spiffeId(parts: { namespace: string; serviceAccount: string; trustDomain?: string }): SpiffeId {
  const trustDomain = parts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  validateTrustDomain(trustDomain);
  validateNamespace(parts.namespace);
  validateServiceAccount(parts.serviceAccount);
  const principal = `${trustDomain}/ns/${parts.namespace}/sa/${parts.serviceAccount}`;
  return Object.freeze({ trustDomain, namespace: parts.namespace, serviceAccount: parts.serviceAccount, uri: `spiffe://${principal}`, principal });
}

/**
 * Parses `spiffe://<td>/ns/<ns>/sa/<sa>`. Strict: no port, user info, query, fragment, percent-encoding,
 * empty or dot segments, upper case in the trust domain, or a path of another shape.
 */
export function parseSpiffeId(uri: string): SpiffeId {
  if (typeof uri !== 'string' || uri.length > MAX_URI) {
    throw new CaError('INVALID_SPIFFE_ID', `SPIFFE ID ${quoted(String(uri))} is not valid: it must be a string of at most ${MAX_URI} characters`);
  }
  if (!uri.startsWith('spiffe://')) {
    throw new CaError('INVALID_SPIFFE_ID', `SPIFFE ID ${quoted(uri)} is not valid: it must start with "spiffe://" (spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>)`);
  }
  return fromPrincipal(uri.slice('spiffe://'.length), uri);
}

/** Parses Istio's principal form `<td>/ns/<ns>/sa/<sa>` (a SPIFFE ID without its scheme). */
export function parsePrincipal(principal: string): SpiffeId {
  if (typeof principal !== 'string' || principal.length > MAX_URI) {
    throw new CaError('INVALID_SPIFFE_ID', `principal ${quoted(String(principal))} is not valid: it must be a string of at most ${MAX_URI} characters`);
  }
  return fromPrincipal(principal, principal);
}

function fromPrincipal(rest: string, original: string): SpiffeId {
  const parts = rest.split('/');
  if (parts.length !== 5 || parts[1] !== 'ns' || parts[3] !== 'sa') {
    throw new CaError('INVALID_SPIFFE_ID', `SPIFFE ID ${quoted(original)} is not valid: expected the form spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`);
  }
  try {
    return spiffeId({ trustDomain: parts[0]!, namespace: parts[2]!, serviceAccount: parts[4]! });
  } catch (e) {
    throw new CaError('INVALID_SPIFFE_ID', `SPIFFE ID ${quoted(original)} is not valid: ${(e as Error).message}`);
  }
}

/** The URI form of an identity given as a SpiffeId or as the string itself (validated). */
export function toSpiffeId(id: SpiffeId | string): SpiffeId {
  return typeof id === 'string' ? parseSpiffeId(id) : spiffeId(id);
}
