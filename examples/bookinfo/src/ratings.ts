// ratings v1 (Istio's ratings.js): fixed ratings per product, overridable in memory by POST. A test hook
// makes an instance faulty the way Istio's ratings image v-faulty is (503 on half of the GETs), for the
// chaos test and for trying retries and outlier detection by hand: RATINGS_FAULTY_PERCENT.
import type { RequestListener } from 'node:http';
import { guarded, readBody, requestUrl, sendJson, sendNotFound } from './http-util.js';
import type { Env } from './upstream.js';
import { startWorkload, type StartOptions, type RunningWorkload } from './workload-runtime.js';

export type Ratings = Record<string, unknown>;

export interface RatingsHandlerOptions {
  /** Ratings returned for a product with nothing POSTed (the original's Reviewer1: 5, Reviewer2: 4). */
  defaultRatings?: Ratings;
  /**
   * Test hook: GET /ratings/{id} answers 503 `{"error":"Service unavailable"}` on this percentage of
   * requests (0-100, drawn per request), as Istio's v-faulty image does at 50. Default 0.
   */
  faultyPercent?: number;
  /** The draw for faultyPercent, uniform in [0, 1); Math.random by default. */
  random?: () => number;
}

/** The environment variable of the faulty test hook: a percentage, e.g. `RATINGS_FAULTY_PERCENT=50`. */
export const RATINGS_FAULTY_PERCENT = 'RATINGS_FAULTY_PERCENT';

/** The faulty percentage the environment asks for (0 when unset); a value that is not 0-100 is refused, naming the variable. */
export function faultyPercentFrom(env: Env): number {
  const text = env[RATINGS_FAULTY_PERCENT];
  if (text === undefined || text === '') return 0;
  const percent = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || percent > 100) throw new Error(`${RATINGS_FAULTY_PERCENT} must be a percentage 0-100 (50 is Istio's v-faulty), got "${text}"`);
  return percent;
}

export const DEFAULT_RATINGS: Readonly<Ratings> = Object.freeze({ Reviewer1: 5, Reviewer2: 4 });

// The original routes on this prefix regex, so `/ratings/abc` reaches the handler and gets a 400.
const RATINGS_PATH = /^\/ratings\/[0-9]*/;

/** The product id the way ratings.js reads it: parseInt of the last path segment. */
function productIdOf(path: string): number {
  return parseInt(path.split('/').pop() ?? '', 10);
}

export function createRatingsHandler(opts: RatingsHandlerOptions = {}): RequestListener {
  const defaults = opts.defaultRatings ?? DEFAULT_RATINGS;
  const faultyShare = (opts.faultyPercent ?? 0) / 100;
  const random = opts.random ?? Math.random;
  const posted = new Map<number, { id: number; ratings: unknown }>();

  return guarded(async (req, res) => {
    const path = requestUrl(req).pathname;
    if (path === '/health' && req.method === 'GET') {
      sendJson(res, 200, { status: 'Ratings is healthy' });
      return;
    }
    if (!RATINGS_PATH.test(path) || (req.method !== 'GET' && req.method !== 'POST')) {
      sendNotFound(res);
      return;
    }
    const productId = productIdOf(path);
    if (Number.isNaN(productId)) {
      sendJson(res, 400, { error: 'please provide numeric product ID' });
      return;
    }
    if (req.method === 'POST') {
      let ratings: unknown;
      try {
        ratings = JSON.parse(await readBody(req));
      } catch {
        sendJson(res, 400, { error: 'please provide valid ratings JSON' });
        return;
      }
      const entry = { id: productId, ratings };
      posted.set(productId, entry);
      sendJson(res, 200, entry);
      return;
    }
    if (faultyShare > 0 && random() < faultyShare) {
      sendJson(res, 503, { error: 'Service unavailable' });
      return;
    }
    sendJson(res, 200, posted.get(productId) ?? { id: productId, ratings: { ...defaults } });
  });
}

/** A ratings workload; RATINGS_FAULTY_PERCENT in its environment turns on the faulty test hook. */
export function startRatings(opts: StartOptions = {}): Promise<RunningWorkload> {
  const faultyPercent = faultyPercentFrom(opts.env ?? process.env);
  return startWorkload('ratings', () => createRatingsHandler({ faultyPercent }), opts);
}
