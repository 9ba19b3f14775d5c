// The pick of one request from its cluster: the balancer's choice, given the request's hash
// (consistent hash) and the endpoints earlier attempts of the call went to (req.previousEndpoints, set
// by the retry stage). A retry avoids those when another endpoint is there, as Envoy's previous-hosts
// predicate does: the balancer is asked again, up to 5 more times (Istio's
// host_selection_retry_max_attempts), then any other endpoint the cluster may use is taken, so a
// balancer that keeps choosing the same one (power of two choices over two endpoints) cannot defeat it.
import type { Endpoint } from '../balancer/endpoint.js';
import type { Cluster } from './clusters.js';
import type { OutboundRequest } from './pipeline.js';

const MORE_PICKS = 5;

export function chooseEndpoint(cluster: Cluster, req: OutboundRequest, hash: number | undefined): Endpoint | undefined {
  const picker = cluster.picker;
  const avoid = req.previousEndpoints;
  if (avoid === undefined || avoid.size === 0) return picker.pick(hash === undefined ? undefined : { hash });
  const ctx = { hash, avoid };
  let ep = picker.pick(ctx);
  for (let i = 0; i < MORE_PICKS && ep !== undefined && avoid.has(ep); i++) ep = picker.pick(ctx);
  if (ep === undefined || !avoid.has(ep)) return ep;
  const others = cluster.eligible.filter((e) => !avoid.has(e));
  return others.length === 0 ? ep : others[Math.floor(Math.random() * others.length)];
}
