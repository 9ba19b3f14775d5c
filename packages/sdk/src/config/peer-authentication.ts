// PeerAuthentication compiled for this workload, once per config change, with Istio's precedence
// (pilot's ComposePeerAuthentication): a policy selecting the workload (in its namespace) over the
// namespace-wide one over the mesh-wide one (root namespace, no selector); the oldest wins among
// several at one level; UNSET inherits from the next wider level; a port-level mode of the workload's
// policy overrides its mode for that port (the port the workload listens on, Istio's container port:
// that is the port a connection arrives on, whatever service port callers named). With nothing set,
// PERMISSIVE, Istio's default.
import type { MtlsMode, PeerAuthentication } from '@weft/api';
import type { WorkloadScope } from './workload-authorization.js';

export type EffectiveMtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

export interface CompiledPeerAuthentication {
  /** `<namespace>/<name>`. */
  readonly source: string;
  readonly namespace: string;
  readonly createdMs: number;
  readonly selector: ReadonlyArray<readonly [string, string]> | undefined;
  /** Undefined for UNSET (or absent): inherit. */
  readonly mode: EffectiveMtlsMode | undefined;
  readonly ports: ReadonlyMap<number, EffectiveMtlsMode | undefined>;
}

export interface WorkloadPeerAuthentication {
  /** The mode for a connection arriving on `port` (the listening port). */
  modeFor(port: number): EffectiveMtlsMode;
  /** `<namespace>/<name>` of the policies in force, narrowest first. */
  readonly sources: readonly string[];
}

export const DEFAULT_PEER_AUTHENTICATION: WorkloadPeerAuthentication = { modeFor: () => 'PERMISSIVE', sources: [] };

function modeOf(mode: MtlsMode | undefined): EffectiveMtlsMode | undefined {
  return mode === undefined || mode === 'UNSET' ? undefined : mode;
}

export function compilePeerAuthentication(pa: PeerAuthentication, createdMs: number): CompiledPeerAuthentication {
  const labels = pa.spec.selector?.matchLabels;
  return {
    source: `${pa.metadata.namespace}/${pa.metadata.name}`,
    namespace: pa.metadata.namespace,
    createdMs,
    selector: labels === undefined ? undefined : Object.entries(labels),
    mode: modeOf(pa.spec.mtls?.mode),
    ports: new Map(Object.entries(pa.spec.portLevelMtls ?? {}).map(([port, m]) => [Number(port), modeOf(m.mode)])),
  };
}

function selects(p: CompiledPeerAuthentication, labels: Readonly<Record<string, string>>): boolean {
  return p.selector !== undefined && p.selector.every(([k, v]) => Object.hasOwn(labels, k) && labels[k] === v);
}

function oldest(list: CompiledPeerAuthentication[]): CompiledPeerAuthentication | undefined {
  return list.sort((a, b) => a.createdMs - b.createdMs || (a.source < b.source ? -1 : a.source > b.source ? 1 : 0))[0];
}

export function peerAuthenticationFor(policies: Iterable<CompiledPeerAuthentication>, scope: WorkloadScope): WorkloadPeerAuthentication {
  const workload: CompiledPeerAuthentication[] = [];
  const namespace: CompiledPeerAuthentication[] = [];
  const mesh: CompiledPeerAuthentication[] = [];
  for (const p of policies) {
    if (p.namespace === scope.namespace && p.selector !== undefined && selects(p, scope.labels)) workload.push(p);
    else if (p.namespace === scope.namespace && p.selector === undefined) namespace.push(p);
    // A root-namespace policy is mesh-wide only without a selector (with one it selects root-namespace workloads, above).
    if (p.namespace === scope.rootNamespace && p.selector === undefined && scope.namespace !== scope.rootNamespace) mesh.push(p);
  }
  const w = oldest(workload);
  const chain = [w, oldest(namespace), oldest(mesh)].filter((p): p is CompiledPeerAuthentication => p !== undefined);
  if (chain.length === 0) return DEFAULT_PEER_AUTHENTICATION;
  const inherited = chain.find((p) => p.mode !== undefined)?.mode ?? 'PERMISSIVE';
  const ports = new Map<number, EffectiveMtlsMode>();
  for (const [port, mode] of w?.ports ?? []) if (mode !== undefined) ports.set(port, mode);
  return { modeFor: (port) => ports.get(port) ?? inherited, sources: chain.map((p) => p.source) };
}
