// Fault stage: the route's fault injection (VirtualService http[].fault), on the calling side as Istio
// applies it, before the timeout and retry stages (as Envoy's fault filter runs before its router): a
// delay is not counted in the route's timeout, and an abort is never retried.
// - delay: the request waits fixedDelay (flag DI), for `percentage` of requests (or the deprecated
//   integer `percent`); the caller's abort ends the wait;
// - abort: after any delay, an independent draw; the request is not sent and fails with FAULT_ABORT
//   (flag FI) carrying the rule's httpStatus and Envoy's body `fault filter abort`; with grpcStatus only,
//   HTTP status 200 and the gRPC status kept for the gRPC edge, as Envoy's fault filter answers.
// A fault without a percentage injects nothing (Istio hands Envoy 0 %). Draws are per million, as Envoy.
import { DEFAULT_ROUTE_POLICY } from '../config/compile-route-policy.js';
import type { FaultPolicy } from '../config/route-policy.js';
import { WeftError } from '../errors.js';
import { delay } from './delay.js';
import type { Handler, Layer, OutboundRequest, OutboundResponse } from './pipeline.js';
import type { ResilienceStats } from './resilience-stats.js';

export interface FaultStageDeps {
  stats: ResilienceStats;
  /** For tests: the draws. */
  random?: () => number;
}

export function faultStage(deps: FaultStageDeps): Layer {
  const random = deps.random ?? Math.random;
  const stats = deps.stats;
  return (next: Handler) => {
    const inject = async (req: OutboundRequest, fault: FaultPolicy): Promise<OutboundResponse> => {
      const d = fault.delay;
      if (d !== undefined && random() * 1_000_000 < d.perMillion) {
        stats.faultDelays++;
        req.record.flags.push('DI');
        await delay(d.ms, req.signal);
      }
      const a = fault.abort;
      if (a !== undefined && random() * 1_000_000 < a.perMillion) {
        stats.faultAborts++;
        req.record.flags.push('FI');
        const route = req.route!;
        const answer = a.grpcStatusName !== undefined ? `grpc-status ${a.grpcStatusName} (HTTP ${a.httpStatus})` : `HTTP ${a.httpStatus}`;
        throw new WeftError(
          'FAULT_ABORT',
          `fault filter abort: route ${route.routeName} answered ${answer} in place of ${route.host}${route.subset ? ` subset ${route.subset}` : ''} (fault.abort of the VirtualService, ${a.perMillion / 10_000}% of requests); no attempt made`,
          { status: a.httpStatus },
        );
      }
      return next(req);
    };
    return (req) => {
      const fault = req.route === undefined ? undefined : (req.route.policy ?? DEFAULT_ROUTE_POLICY).fault;
      return fault === undefined ? next(req) : inject(req, fault);
    };
  };
}
