// Egress stage: is the request for a mesh service, or for a host outside the mesh? Istio's answer,
// outboundTrafficPolicy: a host the registry does not know goes out as addressed (ALLOW_ANY, the
// default: PassthroughCluster) or is refused (REGISTRY_ONLY: BlackHoleCluster, 502).
//
// Single labels and *.svc.cluster.local are mesh hosts by name, IP literals and localhost are not
// (target.ts). A name with dots is open: `ratings.bookinfo` and `example.com` look alike. It is a mesh
// host when the config has a VirtualService or DestinationRule for it, or when weftd has ever listed
// endpoints for it (so a service whose endpoints all died still answers NO_HEALTHY_UPSTREAM instead of
// going to DNS). A DestinationRule whose tls.mode is SIMPLE or MUTUAL is the exception: it is how a
// destination outside the mesh gets TLS origination (Istio's egress pattern), so by itself it leaves the
// host outside, and the transport connects to it with the rule's TLS. A `<name>.<namespace>` name weftd has not answered for yet is subscribed, and the
// request waits (bounded, shared with the pick stage's discovery) for that answer. Longer names
// (`api.github.com`) can never have endpoints in weftd, so only the config can make them mesh hosts.
import { CLUSTER_DOMAIN } from '@weft/api';
import type { CompiledConfig, CompiledDestinationRule } from '../config/compiled.js';
import { WeftError } from '../errors.js';
import { unlessAborted } from './abortable.js';
import type { ClusterDirectory } from './clusters.js';
import type { Handler, Layer, OutboundRequest, OutboundResponse } from './pipeline.js';
import { httpsToMeshHost } from './target.js';

export type OutboundTrafficPolicyMode = 'ALLOW_ANY' | 'REGISTRY_ONLY';

export interface EgressStageDeps {
  mode: OutboundTrafficPolicyMode;
  /** The config in force now. */
  config(): CompiledConfig;
  clusters: ClusterDirectory;
  /** Resolves once weftd has listed the host (subscribing it if needed); rejects with a WeftError on timeout. */
  awaitHost(host: string): Promise<void>;
}

const CLUSTER_SUFFIX = '.' + CLUSTER_DOMAIN;

export function egressStage(deps: EgressStageDeps): Layer {
  const registryOnly = deps.mode === 'REGISTRY_ONLY';
  const { clusters } = deps;

  return (next: Handler) => {
    const outside = (req: OutboundRequest): Promise<OutboundResponse> => {
      // Loopback never reaches a sidecar (Istio's iptables skip it), so REGISTRY_ONLY does not apply.
      if (registryOnly && !req.target.loopback) return Promise.reject(blocked(req));
      req.external = true;
      return next(req);
    };

    const inside = (req: OutboundRequest): Promise<OutboundResponse> => {
      if (req.target.scheme === 'https') return Promise.reject(httpsToMeshHost(`https://${req.target.authority}${req.target.path}`, req.target.fqdn));
      return next(req);
    };

    const settle = (req: OutboundRequest, discovered: boolean): Promise<OutboundResponse> => {
      const fqdn = req.target.fqdn;
      const config = deps.config();
      if (clusters.hadEndpoints(fqdn) || config.routes.has(fqdn) || claimsForMesh(config.destinationRules.get(fqdn))) return inside(req);
      // `<name>.<namespace>` was given the cluster suffix by toFqdn: weftd may list endpoints for it.
      if (!discovered && !clusters.isKnown(fqdn) && fqdn.endsWith(CLUSTER_SUFFIX)) {
        return unlessAborted(deps.awaitHost(fqdn), req.signal).then(() => settle(req, true));
      }
      return outside(req);
    };

    return (req) => {
      const kind = req.target.kind;
      if (kind === 'mesh') return next(req);
      if (kind === 'direct') return outside(req);
      return settle(req, false);
    };
  };
}

/** A DestinationRule names a mesh host unless all it does is originate TLS to it (SIMPLE / MUTUAL at the rule level). */
function claimsForMesh(rule: CompiledDestinationRule | undefined): boolean {
  return rule !== undefined && rule.tls.origination === undefined;
}

function blocked(req: OutboundRequest): WeftError {
  const t = req.target;
  const what = t.kind === 'direct' ? `${t.host} is an address outside the mesh` : `${t.host} is not a mesh service (weftd lists no endpoints for it and no VirtualService or DestinationRule names it)`;
  return new WeftError(
    'EXTERNAL_HOST_BLOCKED',
    `${t.scheme}://${t.authority}${t.path} is refused: ${what} and outboundTrafficPolicy.mode is REGISTRY_ONLY (Istio's BlackHoleCluster, 502). Call a mesh service, or set outboundTrafficPolicy: { mode: 'ALLOW_ANY' }`,
  );
}
