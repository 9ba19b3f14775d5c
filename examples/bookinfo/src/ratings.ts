// ratings v1 (Istio's ratings.js): fixed ratings per product, overridable in memory by POST.
import type { RequestListener } from 'node:http';
import { guarded, readBody, requestUrl, sendJson, sendNotFound } from './http-util.js';
import { startWorkload, type StartOptions, type RunningWorkload } from './workload-runtime.js';

export type Ratings = Record<string, unknown>;

export interface RatingsHandlerOptions {
  /** Ratings returned for a product with nothing POSTed (the original's Reviewer1: 5, Reviewer2: 4). */
  defaultRatings?: Ratings;
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
    sendJson(res, 200, posted.get(productId) ?? { id: productId, ratings: { ...defaults } });
  });
}

export function startRatings(opts: StartOptions = {}): Promise<RunningWorkload> {
  return startWorkload('ratings', () => createRatingsHandler(), opts);
}
