// undici Pool options for a cluster's DestinationRule connectionPool: what undici can do itself.
//   tcp.maxConnections             connections (per endpoint; the cluster-wide count is the
//                                  connection-pool stage's)
//   http.maxRequestsPerConnection  maxRequestsPerClient N - 1 (undici closes after the request that finds
//                                  its count at the limit, so it lets one more through than it says);
//                                  1: each request asks for `connection: close` (the transport's reset)
//   http.idleTimeout / tcp.idle…   keepAliveTimeout, and keepAliveMaxTimeout so that a server's longer
//                                  keep-alive hint cannot stretch it
//   tcp.connectTimeout             the connector's timeout (undici's default is Istio's 10 s as well)
// Without these settings the pools keep undici's defaults: keep-alive as the server's hint says (4 s
// without one), which keeps Node servers' 5 s keep-alive from closing a connection under a request.
import type { ConnectionPoolLimits } from '../config/traffic-policy.js';

export interface PoolOptions {
  connections: number | null;
  pipelining: number;
  maxRequestsPerClient?: number;
  keepAliveTimeout?: number;
  keepAliveMaxTimeout?: number;
  /** For the connector: undefined keeps undici's 10 s. */
  connectTimeout?: number;
}

export function poolOptionsOf(connections: number | undefined, limits: ConnectionPoolLimits | undefined): PoolOptions {
  const out: PoolOptions = { connections: connections ?? null, pipelining: 1 };
  if (limits === undefined) return out;
  if (limits.maxConnections !== Infinity) out.connections = Math.min(limits.maxConnections, connections ?? Infinity);
  if (limits.maxRequestsPerConnection > 1) out.maxRequestsPerClient = limits.maxRequestsPerConnection - 1;
  if (limits.idleTimeoutMs !== undefined) {
    out.keepAliveTimeout = limits.idleTimeoutMs;
    out.keepAliveMaxTimeout = limits.idleTimeoutMs;
  }
  if (limits.connectTimeoutMs !== 10_000) out.connectTimeout = limits.connectTimeoutMs;
  return out;
}
