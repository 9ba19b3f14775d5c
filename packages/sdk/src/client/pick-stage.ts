// Pick stage: resolves the RouteDecision to its cluster and asks the cluster's Picker for an
// endpoint. It counts the request as outstanding on that endpoint (LEAST_REQUEST reads the count)
// until the response body closes (ended, failed or destroyed) or the request fails.
// A route to a subset that no DestinationRule defines has no cluster at all: CLUSTER_NOT_FOUND (Envoy's
// 503 NC), at once, without waiting for endpoints; a defined subset with no endpoint is
// NO_HEALTHY_UPSTREAM (503 UH), as Envoy tells the two apart.
// The cluster goes on req.cluster for the stages below (connection pool, outlier detection, transport).
// A consistent-hash cluster balances by the request's key (hash-key.ts; a cookie made up for a request
// without one is set on the response); a retry avoids the endpoints its call already tried
// (choose-endpoint.ts). For a balancer that learns from latency (PEAK_EWMA) the time to the response
// headers, or to the failure, is reported back to it.
// A host the client has no view of yet (first request to it) is subscribed, and the request waits,
// bounded, for weftd's answer; concurrent first requests share that wait (see Mesh.awaitHost).
// A request outside the mesh (req.external) gets the endpoint of its origin as written: Istio's
// PassthroughCluster, no balancing.
import type { Readable } from 'node:stream';
import { passthroughEndpoint, type Endpoint } from '../balancer/endpoint.js';
import { clusterNotFound, isWeftErrorCode, noHealthyUpstream } from '../errors.js';
import { unlessAborted } from './abortable.js';
import { chooseEndpoint } from './choose-endpoint.js';
import { requestHash } from './hash-key.js';
import type { Cluster, ClusterDirectory, HostView } from './clusters.js';
import type { Handler, Layer, OutboundRequest, OutboundResponse } from './pipeline.js';

export interface PickStageDeps {
  clusters: ClusterDirectory;
  /** Resolves once weftd has listed the host (subscribing it if needed); rejects with a WeftError on timeout. */
  awaitHost(host: string): Promise<void>;
}

const kEndpoint = Symbol('weft.outstandingEndpoint');
type TrackedBody = Readable & { [kEndpoint]?: Endpoint | undefined };

/** 'close' listener shared by every response: no closure per request. */
function releaseOnClose(this: TrackedBody): void {
  const ep = this[kEndpoint];
  if (ep !== undefined) {
    this[kEndpoint] = undefined;
    ep.outstanding--;
  }
}

/** Set-Cookie values made up for requests that had no hash cookie (only those requests are in it). */
const madeCookies = new WeakMap<OutboundRequest, string>();

function appendSetCookie(res: OutboundResponse, cookie: string): void {
  const had = res.headers['set-cookie'];
  res.headers['set-cookie'] = had === undefined ? cookie : [...(Array.isArray(had) ? had : [had]), cookie];
}

/** Distinct external origins whose endpoint objects are kept; past it the map restarts. */
const MAX_EXTERNAL_ENDPOINTS = 1024;

export function pickStage(deps: PickStageDeps): Layer {
  const external = new Map<string, Endpoint>();
  const externalEndpoint = (req: OutboundRequest): Endpoint => {
    const t = req.target;
    const key = t.scheme === 'https' ? 'https://' + t.authority : t.authority;
    let ep = external.get(key);
    if (!ep) {
      ep = passthroughEndpoint(t.host, t.servicePort ?? (t.scheme === 'https' ? 443 : 80), t.scheme);
      if (external.size >= MAX_EXTERNAL_ENDPOINTS) external.clear();
      external.set(key, ep);
    }
    return ep;
  };
  return (next: Handler) => {
    const send = async (req: OutboundRequest, ep: Endpoint): Promise<OutboundResponse> => {
      ep.outstanding++;
      req.endpoint = ep;
      const picker = req.cluster?.picker;
      const t0 = picker?.observe !== undefined ? performance.now() : -1;
      let res: OutboundResponse;
      try {
        res = await next(req);
      } catch (e) {
        ep.outstanding--;
        // A request refused by the connection pool never reached the endpoint: nothing to learn of it.
        if (t0 >= 0 && !isWeftErrorCode(e, 'UPSTREAM_OVERFLOW')) picker!.observe!(ep, performance.now() - t0);
        throw e;
      }
      if (t0 >= 0) picker!.observe!(ep, performance.now() - t0);
      if (req.cluster?.policy.loadBalancing.consistentHash !== undefined) {
        const cookie = madeCookies.get(req);
        if (cookie !== undefined) appendSetCookie(res, cookie);
      }
      const body = res.body as TrackedBody;
      if (body.destroyed || body.closed) ep.outstanding--;
      else {
        body[kEndpoint] = ep;
        body.on('close', releaseOnClose);
      }
      return res;
    };

    const clusterOf = (req: OutboundRequest, view: HostView): Cluster => {
      const d = req.route!;
      const cluster = deps.clusters.cluster(view, d.subset, d.port ?? req.target.servicePort ?? 0);
      if (!cluster.subsetDefined) throw clusterNotFound(d.host, d.subset!, d.routeName);
      return cluster;
    };

    const pickFrom = (req: OutboundRequest, view: HostView): Endpoint => {
      const d = req.route!;
      const cluster = clusterOf(req, view);
      req.cluster = cluster;
      const ch = cluster.policy.loadBalancing.consistentHash;
      let hash: number | undefined;
      if (ch !== undefined) {
        const h = requestHash(ch.key, req);
        hash = h.hash;
        if (h.setCookie !== undefined) madeCookies.set(req, h.setCookie);
      }
      const ep = chooseEndpoint(cluster, req, hash);
      if (ep === undefined) throw noHealthyUpstream(d.host, d.subset);
      return ep;
    };

    const afterDiscovery = async (req: OutboundRequest, view: HostView): Promise<OutboundResponse> => {
      await unlessAborted(deps.awaitHost(view.host), req.signal);
      return send(req, pickFrom(req, view));
    };

    return (req) => {
      if (req.external) return send(req, externalEndpoint(req));
      const view = deps.clusters.view(req.route!.host);
      let ep: Endpoint;
      try {
        if (!view.known) {
          // Whether the subset is defined is in the config, not in the endpoints: no reason to wait.
          if (req.route!.subset !== undefined) clusterOf(req, view);
          return afterDiscovery(req, view);
        }
        ep = pickFrom(req, view);
      } catch (e) {
        return Promise.reject(e);
      }
      return send(req, ep);
    };
  };
}
