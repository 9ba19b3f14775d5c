// The AuthorizationPolicies in force for this workload, chosen once per config change: those of the
// root namespace (mesh-wide) and of the workload's namespace, narrowed by selector.matchLabels.
import type { CompiledAuthorizationPolicy } from './authorization-policy.js';
import type { RequestPredicate } from './authorization-request.js';

/** Which workload this process is, for choosing its policies. */
export interface WorkloadScope {
  namespace: string;
  labels: Readonly<Record<string, string>>;
  /** Istio's root namespace: its policies apply to every workload of the mesh. Default istio-system. */
  rootNamespace: string;
}

export interface WorkloadAuthorization {
  /** Any match denies. */
  readonly deny: readonly RequestPredicate[];
  /** When there are any, a request must match one of them. */
  readonly allow: readonly RequestPredicate[];
  /** `<namespace>/<name>` of every policy in force, for status and messages. */
  readonly sources: readonly string[];
}

export const NO_AUTHORIZATION: WorkloadAuthorization = { deny: [], allow: [], sources: [] };

function selects(policy: CompiledAuthorizationPolicy, labels: Readonly<Record<string, string>>): boolean {
  if (policy.selector === undefined) return true;
  for (const [k, v] of policy.selector) if (!Object.hasOwn(labels, k) || labels[k] !== v) return false;
  return true;
}

/** The policies of `policies` (in a stable order) that apply to the workload. */
export function authorizationFor(policies: Iterable<CompiledAuthorizationPolicy>, scope: WorkloadScope): WorkloadAuthorization {
  const deny: RequestPredicate[] = [];
  const allow: RequestPredicate[] = [];
  const sources: string[] = [];
  for (const p of policies) {
    if (p.namespace !== scope.rootNamespace && p.namespace !== scope.namespace) continue;
    if (!selects(p, scope.labels)) continue;
    (p.action === 'DENY' ? deny : allow).push(p.matches);
    sources.push(p.source);
  }
  return sources.length === 0 ? NO_AUTHORIZATION : { deny, allow, sources };
}

/** Istio's order (CUSTOM has no place in Weft yet): any DENY match denies; then, if ALLOW policies apply, one must match. */
export function isAllowed(authz: WorkloadAuthorization, req: Parameters<RequestPredicate>[0]): boolean {
  for (const d of authz.deny) if (d(req)) return false;
  if (authz.allow.length === 0) return true;
  for (const a of authz.allow) if (a(req)) return true;
  return false;
}
