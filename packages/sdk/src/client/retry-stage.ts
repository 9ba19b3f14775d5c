// Retry stage: sends a mesh request again, as Envoy's router does, when the route's retry policy
// (compile-route-policy.ts: Istio's default without `retries`) says its outcome is worth another try:
// - what is retried: retryOn's conditions. Failures before any answer: connect-failure (also 5xx,
//   gateway-error, reset, reset-before-request), a reset (5xx, gateway-error, reset), a perTryTimeout
//   (5xx, gateway-error, reset). Answers: 5xx (any 5xx), gateway-error (502, 503, 504), retriable-4xx
//   (409), the listed status codes (retriable-status-codes), envoy-ratelimited (x-envoy-ratelimited), and
//   the gRPC statuses of a grpc-status response header (cancelled, deadline-exceeded, internal,
//   resource-exhausted, unavailable). refused-stream, retriable-headers and http3-post-connect-failure are
//   kept but never match over HTTP/1.1. No healthy upstream or a missing cluster is never retried.
// - where: another endpoint when one exists (req.previousEndpoints, Envoy's previous-hosts predicate,
//   honoured by the pick stage), unless retryIgnorePreviousHosts is false;
// - when: after a jittered exponential backoff, a random wait below 25 ms, then below 50, 100, ... up
//   to 10 × the base (Envoy's JitteredExponentialBackOffStrategy; `backoff` sets the base);
// - within: perTryTimeout for each attempt's response headers (a slow body is the route timeout's, as
//   Envoy ignores a per-try timeout once the response started); the route's timeout (timeout-stage.ts,
//   above) spans all attempts and backoffs;
// - only if the body can be sent again: strings and bytes can, a stream that was read cannot;
// - only within the budgets: the destination service's retry budget (retry-budget.ts, on by default)
//   and the DestinationRule's caps on concurrent retries (retry-concurrency.ts). A retry refused by
//   either returns the last outcome flagged UO, as Envoy's retry overflow; attempts all used add URX.
// Every failure leaving here names the route, destination, endpoints and attempts (call-trace.ts).
//
// cockatiel's RetryPolicy does not fit: it knows neither Envoy's retryOn classification of answers, nor
// the previous-hosts predicate, nor budgets shared across calls, nor a per-try deadline that stops at
// the response headers; the loop is small enough to own.
import type { Readable } from 'node:stream';
import type { Endpoint } from '../balancer/endpoint.js';
import type { CompiledConfig, RouteDecision } from '../config/compiled.js';
import { DEFAULT_ROUTE_POLICY } from '../config/compile-route-policy.js';
import { NO_RETRY_LIMITS, type RetryLimits, type RetryOn, type RetryPolicy } from '../config/route-policy.js';
import { isWeftError, WeftError } from '../errors.js';
import { traceOf, withCallContext } from './call-trace.js';
import { delay } from './delay.js';
import type { Handler, Layer, OutboundBody, OutboundRequest, OutboundResponse } from './pipeline.js';
import type { ResilienceStats } from './resilience-stats.js';
import { RetryBudget, type RetryBudgetSettings } from './retry-budget.js';
import { ClusterRetryState } from './retry-concurrency.js';
import { CallAbortController } from './call-signal.js';

export interface RetryStageDeps {
  /** The config in force now (DestinationRule caps on concurrent retries). */
  config(): CompiledConfig;
  stats: ResilienceStats;
  /** The retry budget of each destination service; undefined: none (createMesh retryBudget: false). */
  budget: Readonly<RetryBudgetSettings> | undefined;
  /** For tests: the backoff's randomness and the budgets' clock. */
  random?: () => number;
  now?: () => number;
}

export function retryStage(deps: RetryStageDeps): Layer {
  const random = deps.random ?? Math.random;
  const now = deps.now ?? Date.now;
  const stats = deps.stats;
  const budgets = new Map<string, RetryBudget>();
  const clusters = new Map<string, Map<string, ClusterRetryState>>();
  // RouteDecisions are immutable and shared per config: one lookup per call on the usual path.
  const byDecision = new WeakMap<RouteDecision, ClusterRetryState>();

  const stateOf = (d: RouteDecision): ClusterRetryState => {
    let state = byDecision.get(d);
    if (state === undefined) {
      let subsets = clusters.get(d.host);
      if (subsets === undefined) clusters.set(d.host, (subsets = new Map()));
      state = subsets.get(d.subset ?? '');
      if (state === undefined) subsets.set(d.subset ?? '', (state = new ClusterRetryState(now)));
      byDecision.set(d, state);
    }
    return state;
  };

  const budgetOf = (host: string): RetryBudget | undefined => {
    if (deps.budget === undefined) return undefined;
    let b = budgets.get(host);
    if (b === undefined) budgets.set(host, (b = new RetryBudget(deps.budget, now)));
    return b;
  };

  const limitsOf = (d: RouteDecision): RetryLimits => {
    const rule = deps.config().destinationRules.get(d.host);
    if (rule === undefined) return NO_RETRY_LIMITS;
    return (d.subset !== undefined ? rule.subsets.get(d.subset)?.retryLimits : undefined) ?? rule.retryLimits ?? NO_RETRY_LIMITS;
  };

  return (next: Handler) => {
    const call = async (req: OutboundRequest, d: RouteDecision): Promise<OutboundResponse> => {
      const retry = (d.policy ?? DEFAULT_ROUTE_POLICY).retry;
      const cluster = stateOf(d);
      const budget = budgetOf(d.host);
      budget?.deposit();
      const limits = limitsOf(d);
      const trace = traceOf(req);
      const overall = req.signal;
      let retriesLeft = retry?.numRetries ?? 0;
      let backoffCap = retry?.backoffBaseMs ?? 0;
      for (;;) {
        const isRetry = trace.attempts > 0;
        trace.attempts++;
        cluster.active++;
        cluster.recordStart(limits);
        if (isRetry) cluster.activeRetries++;
        req.endpoint = undefined;
        const perTry = retry?.perTryTimeoutMs !== undefined ? new PerTryDeadline(retry.perTryTimeoutMs, overall) : undefined;
        if (perTry !== undefined) req.signal = perTry.signal;
        let res: OutboundResponse | undefined;
        let failure: unknown;
        let failed = false;
        try {
          res = await next(req);
        } catch (e) {
          failed = true;
          failure = e;
        }
        cluster.active--;
        if (isRetry) cluster.activeRetries--;
        if (req.endpoint !== undefined) trace.endpoints.push(req.endpoint);
        req.signal = overall;
        perTry?.settle(res?.body);

        if (failed) {
          // The caller gave up, or the route's timeout ran out: theirs to report, never retried.
          if (overall?.aborted) throw failure;
          if (perTry?.fired) {
            stats.perTryTimeouts++;
            failure = perTry.reason();
          }
        }
        const wanted = retry !== undefined && (failed ? retriableFailure(failure, retry.on, perTry?.fired === true) : retriableAnswer(res!, retry));

        /** The outcome in hand is the call's: flags added, failures described. */
        const end = (flags: readonly string[], note = ''): OutboundResponse => {
          const record = req.record.flags;
          if (!failed) {
            for (const f of flags) record.push(f);
            return res!;
          }
          if (perTry?.fired) record.push('UT');
          for (const f of flags) record.push(f);
          throw withCallContext(failure, req, note, flags);
        };

        if (!wanted) return end([]);
        if (retriesLeft === 0) {
          stats.retriesExhausted++;
          return end(['URX'], '; retries exhausted');
        }
        retriesLeft--;
        if (!canSendAgain(req.body)) {
          stats.retriesSkippedStreamBody++;
          return end([], '; not retried: the request body was a stream, already sent');
        }
        if (!cluster.mayRetry(limits)) {
          stats.retryOverflow++;
          return end(['UO'], `; retry refused: ${limits.source} caps the retries in flight to ${d.host}${d.subset ? ` subset ${d.subset}` : ''}`);
        }
        if (budget !== undefined && !budget.tryWithdraw()) {
          stats.retryBudgetExhausted++;
          return end(['UO'], `; retry refused: the retry budget of ${d.host} is spent (retries may add ${deps.budget!.ratio * 100}% to the requests of the last ${deps.budget!.windowMs} ms, plus ${deps.budget!.minPerSecond} per second)`);
        }
        if (!failed) discard(res!);
        if (retry!.ignorePreviousHosts && req.endpoint !== undefined) (req.previousEndpoints ??= new Set<Endpoint>()).add(req.endpoint);
        stats.retries++;
        const wait = Math.floor(random() * backoffCap);
        backoffCap = Math.min(backoffCap * 2, retry!.backoffMaxMs);
        if (wait > 0) await delay(wait, overall);
      }
    };
    return (req) => {
      // Outside the mesh (Istio's PassthroughCluster): no retry policy, as Istio's passthrough route.
      if (req.external || req.route === undefined) return next(req);
      return call(req, req.route);
    };
  };
}

/** gRPC status codes of retryOn's gRPC conditions. */
const GRPC_CANCELLED = 1;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_INTERNAL = 13;
const GRPC_UNAVAILABLE = 14;

/** Whether retryOn covers an answer (Envoy's RetryStateImpl::wouldRetryFromHeaders). */
export function retriableAnswer(res: OutboundResponse, p: RetryPolicy): boolean {
  const s = res.statusCode;
  const on = p.on;
  if (on.fiveXx && s >= 500 && s <= 599) return true;
  if (on.gatewayError && (s === 502 || s === 503 || s === 504)) return true;
  if (on.retriable4xx && s === 409) return true;
  if (on.retriableStatusCodes && p.statusCodes.has(s)) return true;
  const h = res.headers;
  if (on.envoyRatelimited && h['x-envoy-ratelimited'] !== undefined) return true;
  const grpc = h['grpc-status'];
  if (grpc !== undefined) {
    const code = Number(Array.isArray(grpc) ? grpc[0] : grpc);
    if (on.cancelled && code === GRPC_CANCELLED) return true;
    if (on.deadlineExceeded && code === GRPC_DEADLINE_EXCEEDED) return true;
    if (on.resourceExhausted && code === GRPC_RESOURCE_EXHAUSTED) return true;
    if (on.internal && code === GRPC_INTERNAL) return true;
    if (on.unavailable && code === GRPC_UNAVAILABLE) return true;
  }
  return false;
}

/** Whether retryOn covers a failure before any answer (Envoy's RetryStateImpl::wouldRetryFromReset). */
export function retriableFailure(e: unknown, on: RetryOn, perTryTimeout: boolean): boolean {
  const resetLike = on.reset || on.fiveXx || on.gatewayError;
  if (perTryTimeout) return resetLike;
  if (!isWeftError(e)) return false;
  if (e.code === 'UPSTREAM_CONNECT_FAILURE') return resetLike || on.connectFailure || on.resetBeforeRequest;
  if (e.code === 'UPSTREAM_RESET') return resetLike;
  return false;
}

/** Strings and bytes can be sent again; a stream only while nothing of it was read. */
function canSendAgain(body: OutboundBody): boolean {
  if (body === null || typeof body === 'string' || body instanceof Uint8Array) return true;
  const r = body as Readable;
  return !r.readableDidRead && !r.destroyed;
}

/** Releases an answer that is not the call's (the connection goes back to its pool). */
function discard(res: OutboundResponse): void {
  const body = res.body as OutboundResponse['body'] & { dump?(): Promise<void> };
  if (typeof body.dump === 'function') body.dump().catch(() => undefined);
  else body.destroy();
}

/**
 * One attempt's perTryTimeout: its own signal, aborted when the time is up (with an UPSTREAM_TIMEOUT
 * error) or when the call's signal aborts. Once the response headers are in, the timer stops, and the
 * call's aborts keep reaching the attempt until its body closes.
 */
class PerTryDeadline {
  private readonly controller = new CallAbortController();
  fired = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onOverall: (() => void) | undefined;

  constructor(
    private readonly ms: number,
    private readonly overall: AbortSignal | undefined,
  ) {
    this.timer = setTimeout(() => {
      this.fired = true;
      this.controller.abort(new WeftError('UPSTREAM_TIMEOUT', `upstream request timeout: no response within perTryTimeout ${ms} ms`));
    }, ms);
    if (overall !== undefined) {
      if (overall.aborted) this.controller.abort(overall.reason);
      else {
        this.onOverall = () => this.controller.abort(overall.reason);
        overall.addEventListener('abort', this.onOverall, { once: true });
      }
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal.asAbortSignal();
  }

  reason(): unknown {
    return this.controller.signal.reason;
  }

  /** Stops the timer; keeps forwarding the call's aborts while `body` is open. */
  settle(body: Readable | undefined): void {
    clearTimeout(this.timer);
    const overall = this.overall;
    const onOverall = this.onOverall;
    if (overall === undefined || onOverall === undefined) return;
    if (body !== undefined && !body.destroyed && !body.closed) body.once('close', () => overall.removeEventListener('abort', onOverall));
    else overall.removeEventListener('abort', onOverall);
  }
}
