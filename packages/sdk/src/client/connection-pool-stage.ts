// Connection-pool stage: DestinationRule connectionPool limits (Envoy's circuit breakers) of the
// request's cluster, after the pick. A request takes a connection of the cluster, or waits in line for
// one (bounded by http1MaxPendingRequests), or overflows: it fails at once with UPSTREAM_OVERFLOW
// (503, flag UO, Envoy's `reset reason: overflow` local reply), counted in mesh.clusterStats(). The
// connection is held until the response body ends (or the request fails): HTTP/1.1 carries one request
// per connection at a time. The counting is connection-limiter.ts; this stage only adds the request's
// side (its signal, its response body). A cluster without limits passes requests straight on.
import type { Readable } from 'node:stream';
import { WeftError } from '../errors.js';
import type { Cluster } from './clusters.js';
import type { ConnectionLimiter } from './connection-limiter.js';
import type { Handler, Layer, OutboundRequest, OutboundResponse } from './pipeline.js';

const kLimiter = Symbol('weft.connectionLimiter');
type LimitedBody = Readable & { [kLimiter]?: ConnectionLimiter | undefined };

/** 'close' listener shared by every response: no closure per request. */
function releaseOnClose(this: LimitedBody): void {
  const limiter = this[kLimiter];
  if (limiter !== undefined) {
    this[kLimiter] = undefined;
    limiter.release();
  }
}

export function connectionPoolStage(): Layer {
  return (next: Handler) => {
    const holding = async (req: OutboundRequest, limiter: ConnectionLimiter): Promise<OutboundResponse> => {
      let res: OutboundResponse;
      try {
        res = await next(req);
      } catch (e) {
        limiter.release();
        throw e;
      }
      const body = res.body as LimitedBody;
      if (body.destroyed || body.closed) limiter.release();
      else {
        body[kLimiter] = limiter;
        body.on('close', releaseOnClose);
      }
      return res;
    };

    return (req) => {
      const cluster = req.cluster;
      const limiter = cluster?.limiter;
      if (limiter === undefined) return next(req);
      switch (limiter.admit()) {
        case 'go':
          return holding(req, limiter);
        case 'wait':
          return limiter.wait(req.signal).then(() => holding(req, limiter));
        default:
          req.record.flags.push('UO');
          return Promise.reject(overflow(cluster!, limiter));
      }
    };
  };
}

function overflow(c: Cluster, limiter: ConnectionLimiter): WeftError {
  const l = limiter.limits;
  const why = limiter.active < l.maxConnections
    ? `${limiter.active} requests in flight reach http2MaxRequests ${l.maxRequests}`
    : `${limiter.active} connections busy (maxConnections ${l.maxConnections}) and ${limiter.pending} requests waiting (http1MaxPendingRequests ${l.maxPendingRequests})`;
  const cluster = `${c.host}${c.subset === undefined ? '' : ` subset ${c.subset}`}${c.port === 0 ? '' : ` port ${c.port}`}`;
  return new WeftError('UPSTREAM_OVERFLOW', `upstream overflow for ${cluster}: ${why}, set by ${l.source}; the request was not sent`);
}
