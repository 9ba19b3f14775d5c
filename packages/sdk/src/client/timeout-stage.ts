// Timeout stage: one deadline over a whole call, as Envoy's route timeout: every attempt and backoff of
// the retry stage below, and the response body until it ends (Envoy resets a stream whose body is still
// coming when the timeout fires). The VirtualService route's `timeout` sets it (none by default, as
// Istio); the request header x-envoy-upstream-rq-timeout-ms overrides it (0 disables it) and, as Envoy
// does, is removed before the request goes out. When it runs out: UPSTREAM_TIMEOUT (504 `upstream
// request timeout`, flag UT), naming route, destination, endpoints and attempts; a body still streaming
// fails with the same error.
// The deadline is an AbortSignal put on the request (chained to the caller's own), so everything below
// stops at once: a wait for discovery, a backoff, the transport. The stage also races the call, so a
// stage that ignored the signal could not hold the caller past the deadline.
// cockatiel's TimeoutPolicy ends its deadline when the function's promise settles, that is at the
// response headers; Envoy's covers the body too, hence this small stage.
import type { Readable } from 'node:stream';
import { DEFAULT_ROUTE_POLICY } from '../config/compile-route-policy.js';
import { WeftError } from '../errors.js';
import { describeCall } from './call-trace.js';
import { CallAbortController } from './call-signal.js';
import type { Handler, Layer, OutboundRequest, OutboundResponse } from './pipeline.js';
import type { ResilienceStats } from './resilience-stats.js';

export const TIMEOUT_HEADER = 'x-envoy-upstream-rq-timeout-ms';

export interface TimeoutStageDeps {
  stats: ResilienceStats;
}

export function timeoutStage(deps: TimeoutStageDeps): Layer {
  const stats = deps.stats;
  return (next: Handler) => (req) => {
    let ms = req.route === undefined ? undefined : (req.route.policy ?? DEFAULT_ROUTE_POLICY).timeoutMs;
    let source = 'the route timeout';
    const header = req.headers[TIMEOUT_HEADER];
    if (header !== undefined) {
      delete req.headers[TIMEOUT_HEADER];
      const text = Array.isArray(header) ? header[0] : header;
      // Envoy reads an unsigned decimal and ignores anything else.
      if (text !== undefined && /^\d{1,15}$/.test(text)) {
        const v = Number(text);
        ms = v === 0 ? undefined : v;
        source = TIMEOUT_HEADER;
      }
    }
    if (ms === undefined) return next(req);
    return withDeadline(next, req, ms, source, stats);
  };
}

function withDeadline(next: Handler, req: OutboundRequest, ms: number, source: string, stats: ResilienceStats): Promise<OutboundResponse> {
  const own = new CallAbortController();
  const caller = req.signal;
  let timedOut = false;
  const onCaller = (): void => own.abort(caller!.reason);
  if (caller !== undefined) {
    if (caller.aborted) own.abort(caller.reason);
    else caller.addEventListener('abort', onCaller, { once: true });
  }
  const timer = setTimeout(() => {
    timedOut = true;
    stats.timeouts++;
    req.record.flags.push('UT');
    own.abort(new WeftError('UPSTREAM_TIMEOUT', `upstream request timeout: no complete response within ${ms} ms (${source}) (${describeCall(req)})`));
  }, ms);
  const release = (): void => {
    clearTimeout(timer);
    caller?.removeEventListener('abort', onCaller);
  };
  req.signal = own.signal.asAbortSignal();
  return new Promise<OutboundResponse>((resolve, reject) => {
    const onDeadline = (): void => {
      if (timedOut) reject(own.signal.reason);
    };
    own.signal.addEventListener('abort', onDeadline, { once: true });
    next(req).then(
      (res) => {
        own.signal.removeEventListener('abort', onDeadline);
        if (timedOut) {
          // Already answered with the timeout; this late response is nobody's.
          res.body.destroy();
          return;
        }
        // The deadline covers the body: the timer stays until it closes (the abort then destroys it).
        const body: Readable = res.body;
        if (body.destroyed || body.closed) release();
        else body.once('close', release);
        resolve(res);
      },
      (e: unknown) => {
        own.signal.removeEventListener('abort', onDeadline);
        release();
        reject(timedOut ? own.signal.reason : e);
      },
    );
  });
}
