// Compiles a DestinationRule's caps on concurrent retries to one cluster: connectionPool.http.maxRetries
// (Envoy's max_retries circuit breaker; unlimited by default in Istio) and trafficPolicy.retryBudget
// (Envoy's retry_budget, which replaces max_retries when set: concurrent retries may be `percent` % of
// the active requests, never fewer than `minRetryConcurrency`; defaults 20 % and 3). A subset's
// trafficPolicy replaces the rule's connectionPool and retryBudget field by field, as Istio merges them.
// The other connectionPool fields belong to the connection-pool stage and are not read here.
import { parseDuration } from '@weft/api';
import { NO_RETRY_LIMITS, type RetryLimits } from './route-policy.js';

/** The fields of a trafficPolicy read here (validated by @weft/api). */
interface RetryLimitFields {
  connectionPool?: { http?: { maxRetries?: number } };
  retryBudget?: { percent?: number; minRetryConcurrency?: number; budgetInterval?: string };
}

/** `policy` is a DestinationRule's or a subset's trafficPolicy; `inherited` what applies without one. */
export function compileRetryLimits(policy: object | undefined, inherited: RetryLimits, source: string): RetryLimits {
  const p = policy as RetryLimitFields | undefined;
  const pool = p?.connectionPool;
  const budget = p?.retryBudget;
  if (pool === undefined && budget === undefined) return inherited;
  const maxRetries = pool !== undefined ? (pool.http?.maxRetries ?? Infinity) : inherited.maxRetries;
  const compiledBudget = budget !== undefined
    ? Object.freeze({
        percent: budget.percent ?? 20,
        minRetryConcurrency: budget.minRetryConcurrency ?? 3,
        intervalMs: budget.budgetInterval !== undefined ? parseDuration(budget.budgetInterval) : 0,
      })
    : inherited.budget;
  if (maxRetries === Infinity && compiledBudget === undefined) return NO_RETRY_LIMITS;
  return Object.freeze({ maxRetries, budget: compiledBudget, source });
}
