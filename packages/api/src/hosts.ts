// Host names as Istio reads them: `reviews` (in the namespace of whoever names it), `reviews.bookinfo`
// and `reviews.bookinfo.svc.cluster.local` all name one service. Weft keys everything by the FQDN.

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
