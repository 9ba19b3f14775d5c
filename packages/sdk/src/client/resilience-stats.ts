// Counters of what the fault, mirror, timeout and retry stages decided, per mesh: what mesh.stats()
// returns until telemetry (issue 10) exports them as weft_* metrics. Plain numbers bumped in place: no
// allocation per request.

export interface ResilienceStats {
  /** Retries sent (attempts after the first). */
  retries: number;
  /** Calls returned with URX: the retry policy's attempts were all used. */
  retriesExhausted: number;
  /** Retries not sent because the destination service's retry budget (ratio over a window) was spent (flag UO). */
  retryBudgetExhausted: number;
  /** Retries not sent because a DestinationRule cap on concurrent retries was reached: maxRetries or retryBudget (flag UO). */
  retryOverflow: number;
  /** Retries not sent because the request body was a stream already read (it cannot be sent again). */
  retriesSkippedStreamBody: number;
  /** Calls failed with UT: the route timeout, x-envoy-upstream-rq-timeout-ms or a last perTryTimeout ran out. */
  timeouts: number;
  /** Attempts that ran out of their perTryTimeout (retried or not). */
  perTryTimeouts: number;
  /** Requests delayed by fault.delay (DI). */
  faultDelays: number;
  /** Requests aborted by fault.abort (FI). */
  faultAborts: number;
  /** Mirrored copies sent. */
  mirrorsSent: number;
  /** Copies not sent because the mesh's limit of mirrored requests in flight was reached. */
  mirrorsDropped: number;
  /** Copies not sent because the request body was a stream (only buffered bodies are copied). */
  mirrorsSkippedStreamBody: number;
  /** Copies that failed or answered 5xx (their outcome never reaches the caller). */
  mirrorsFailed: number;
  /** Mirrored requests in flight now. */
  mirrorsInFlight: number;
}

export function newResilienceStats(): ResilienceStats {
  return {
    retries: 0,
    retriesExhausted: 0,
    retryBudgetExhausted: 0,
    retryOverflow: 0,
    retriesSkippedStreamBody: 0,
    timeouts: 0,
    perTryTimeouts: 0,
    faultDelays: 0,
    faultAborts: 0,
    mirrorsSent: 0,
    mirrorsDropped: 0,
    mirrorsSkippedStreamBody: 0,
    mirrorsFailed: 0,
    mirrorsInFlight: 0,
  };
}
