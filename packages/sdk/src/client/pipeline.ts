// The client pipeline: one Layer shape, composed once per mesh into a single Handler that both edges
// (mesh.fetch and mesh.request) call.
//
//   edge (fetch | request): parse the URL (cached), lower-case the headers, build an OutboundRequest;
//              mesh.fetch follows redirects by calling the whole chain again for each hop
//     │
//     ▼
//   egress     mesh service or outside the mesh? Settles `dns` names by weftd's view and the config
//              (waiting, bounded, for weftd's first answer); sets req.external. Outside the mesh:
//              ALLOW_ANY passes on, REGISTRY_ONLY fails EXTERNAL_HOST_BLOCKED (Istio's BlackHoleCluster)
//   route      VirtualService of target.fqdn → first matching http route → weighted destination;
//              sets req.route (RouteDecision {host, subset, port, routeName}); NO_ROUTE when none
//              matches. External requests pass untouched (req.route stays undefined)
//   local reply  a route with redirect or directResponse is answered here; nothing below runs
//   route headers  headers.request, authority and path rewrite on the request; headers.response on the answer
//   [fault]    later: delay / abort (reads req.route)
//   [mirror]   later: fire-and-forget copy to another RouteDecision
//   [timeout]  later: one deadline over all attempts (an AbortSignal on req)
//   [retry]    later: calls `next` again for another attempt; everything below runs once per attempt
//   pick       cluster (host, subset, port) → its current Picker → req.endpoint; CLUSTER_NOT_FOUND (503 NC)
//              at once when no DestinationRule defines the subset, NO_HEALTHY_UPSTREAM (503 UH) when the
//              cluster is empty; counts the request as outstanding on the endpoint until the response body ends.
//              External requests get the endpoint of their origin as written (Istio's PassthroughCluster)
//   [breaker]  later: connection-pool limits / outlier detection (reads req.endpoint)
//   [telemetry] later: one span and metrics per attempt
//   transport  terminal: undici Pool per endpoint origin (keep-alive), pool.request(); errors → WeftError;
//              over mTLS one Pool per (origin, certificate generation) that checks the server's SPIFFE ID
//              (mtls-connect.ts). External origins have their own
//              bounded set of pools, with TLS for https as undici does it
//
// A stage is `(next) => (req) => Promise<res>`: it may read or set fields of req, call next zero or
// more times, and wrap or replace the response. Stages must not parse config per request: what they
// need is precompiled (config/compile.ts) and reached through map lookups. A new capability is a new
// stage inserted in `buildPipeline` (mesh.ts), never a branch in an existing one.
import type { Readable } from 'node:stream';
import type { Endpoint } from '../balancer/endpoint.js';
import type { RouteDecision } from '../config/compiled.js';
import type { Cluster } from './clusters.js';
import type { Target } from './target.js';

export type OutboundHeaders = Record<string, string | string[]>;
export type OutboundBody = string | Uint8Array | Readable | null;

export interface OutboundRequest {
  /** Upper-case HTTP method. */
  method: string;
  target: Target;
  /** Lower-case names; includes `host` (the authority as the caller wrote it). */
  headers: OutboundHeaders;
  body: OutboundBody;
  signal: AbortSignal | undefined;
  /**
   * False: a mesh service, routed and balanced. True: outside the mesh, sent to the origin as written.
   * The edge sets it for IP literals and localhost; the egress stage settles `dns` names.
   */
  external?: boolean;
  /** Set by the route stage (mesh requests only). */
  route: RouteDecision | undefined;
  /** Set by the pick stage. */
  endpoint: Endpoint | undefined;
  /**
   * The cluster the pick stage took req.endpoint from (mesh requests; undefined outside the mesh): the
   * stages below it read its limits, outlier detection and policy (tls, pool settings) from here.
   */
  cluster?: Cluster;
  /**
   * Endpoints earlier attempts of this call went to (set by the retry stage). The pick stage avoids them
   * when another endpoint is available (Envoy's previous-hosts retry predicate); undefined: first attempt.
   */
  previousEndpoints?: Set<Endpoint>;
  /** What happened to this call, filled by the stages on the way: for errors and telemetry. */
  record: CallRecord;
}

/**
 * Envoy's response flags (UO, URX, UT, DI, FI, UH, UF, UR, NR, ...) the call collected, in the order they
 * arose, and the attempts the transport made. One per logical call (mirrors get their own).
 */
export interface CallRecord {
  flags: string[];
  attempts: number;
}

export interface OutboundResponse {
  statusCode: number;
  /** The reason phrase, when the transport has it. */
  statusText?: string;
  headers: Record<string, string | string[] | undefined>;
  /** undici's BodyReadable in practice: a Readable with .json(), .text(), .arrayBuffer(). */
  body: Readable & { text(): Promise<string>; json(): Promise<unknown>; arrayBuffer(): Promise<ArrayBuffer> };
}

export type Handler = (req: OutboundRequest) => Promise<OutboundResponse>;
export type Layer = (next: Handler) => Handler;

/** Nests the layers so that layers[0] sees the request first and terminal last. */
export function compose(layers: readonly Layer[], terminal: Handler): Handler {
  let handler = terminal;
  for (let i = layers.length - 1; i >= 0; i--) handler = layers[i]!(handler);
  return handler;
}
