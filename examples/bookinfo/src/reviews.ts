// reviews v1/v2/v3 (Istio's LibertyRestEndpoint.java): two reviews; v2 and v3 add stars from ratings.
import type { RequestListener } from 'node:http';
import { copyHeaders, FORWARDED_HEADERS } from './headers.js';
import { guarded, requestUrl, sendJson, sendNotFound } from './http-util.js';
import { getWithTimeout, jsonIfOk, upstreamBaseUrl, upstreamHost, type Env, type FetchLike } from './upstream.js';
import { startWorkload, type StartOptions, type RunningWorkload } from './workload-runtime.js';

export type ReviewsVersion = 'v1' | 'v2' | 'v3';
export const REVIEWS_VERSIONS: readonly ReviewsVersion[] = ['v1', 'v2', 'v3'];

export interface ReviewsHandlerOptions {
  version: ReviewsVersion;
  /** Calls ratings; `mesh.fetch` in a workload. Unused by v1. */
  fetch: FetchLike;
  /** HOSTNAME, CLUSTER_NAME, RATINGS_HOSTNAME, RATINGS_SERVICE_PORT, SERVICES_DOMAIN. */
  env?: Env;
  /**
   * Where a failed ratings call is reported, as the original prints it ("Error: unable to contact ... got
   * status of 503"), with the mesh's response flags when the mesh answered (UH, URX...). Default: silent.
   */
  log?: (line: string) => void;
}

export const RATINGS_UNAVAILABLE = 'Ratings service is currently unavailable';

export const REVIEWS: ReadonlyArray<{ reviewer: string; text: string }> = [
  { reviewer: 'Reviewer1', text: 'A riot from start to finish: two pairs of twins and not one straight answer. The slapstick still lands.' },
  { reviewer: 'Reviewer2', text: 'Great fun on stage, though it trades depth for pace compared with Shakespeare\'s later comedies.' },
];

/** What each image of the original is built with (docker-bake: enable_ratings, star_color). */
export function reviewsFlavour(version: ReviewsVersion): { ratingsEnabled: boolean; starColor: 'black' | 'red' } {
  return { ratingsEnabled: version !== 'v1', starColor: version === 'v3' ? 'red' : 'black' };
}

/**
 * The original's client timeout to ratings: 10 s for black stars (v2), 2.5 s otherwise (v3). The
 * difference is the bug the fault-injection task exposes, so it is kept.
 */
export function ratingsTimeoutMs(starColor: string): number {
  return starColor === 'black' ? 10_000 : 2_500;
}

/** `podname` when HOSTNAME is unset: recognisably this version, distinct per process. */
export function defaultPodName(version: string): string {
  return `reviews-${version}-${process.pid}`;
}

type Rating = { stars: number; color: string } | { error: string };

/** Stars per reviewer from a ratings response; -1 (shown as the error object) when missing. */
function starsFrom(ratingsResponse: unknown, reviewer: string): number {
  if (typeof ratingsResponse !== 'object' || ratingsResponse === null) return -1;
  const ratings = (ratingsResponse as { ratings?: unknown }).ratings;
  if (typeof ratings !== 'object' || ratings === null) return -1;
  const stars = (ratings as Record<string, unknown>)[reviewer];
  return typeof stars === 'number' && Number.isInteger(stars) ? stars : -1;
}

// JAX-RS binds `{productId}` to an int; anything else is not a match (404).
const REVIEWS_PATH = /^\/reviews\/([+-]?\d{1,9})$/;

export function createReviewsHandler(opts: ReviewsHandlerOptions): RequestListener {
  const env = opts.env ?? process.env;
  const { ratingsEnabled, starColor } = reviewsFlavour(opts.version);
  const podname = env.HOSTNAME || defaultPodName(opts.version);
  // Java prints a null String as "null"; the HTML hides the cluster when it reads "null".
  const clustername = env.CLUSTER_NAME ?? 'null';
  const ratingsBase = `${upstreamBaseUrl('ratings', env)}/ratings`;
  const timeoutMs = ratingsTimeoutMs(starColor);

  const log = opts.log;

  async function fetchRatings(productId: string, headers: Record<string, string>): Promise<unknown> {
    try {
      const res = await getWithTimeout(opts.fetch, `${ratingsBase}/${productId}`, headers, timeoutMs);
      if (res.status !== 200 && log) {
        const flags = res.headers.get('x-weft-response-flags');
        log(`Error: unable to contact ${ratingsBase} got status of ${res.status}${flags ? ` (response flags ${flags})` : ''}`);
      }
      return await jsonIfOk(res);
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      log?.(`Error: unable to contact ${ratingsBase} got exception ${String(err)}${cause instanceof Error ? `: ${cause.message}` : ''}`);
      return undefined;
    }
  }

  return guarded(async (req, res) => {
    const path = requestUrl(req).pathname;
    if (req.method === 'GET' && path === '/health') {
      sendJson(res, 200, { status: 'Reviews is healthy' });
      return;
    }
    const match = req.method === 'GET' ? REVIEWS_PATH.exec(path) : null;
    if (!match) {
      sendNotFound(res);
      return;
    }
    const productId = String(parseInt(match[1]!, 10));
    const ratingsResponse = ratingsEnabled ? await fetchRatings(productId, copyHeaders(req.headers, FORWARDED_HEADERS)) : undefined;
    const reviews = REVIEWS.map(({ reviewer, text }) => {
      if (!ratingsEnabled) return { reviewer, text };
      const stars = starsFrom(ratingsResponse, reviewer);
      const rating: Rating = stars === -1 ? { error: RATINGS_UNAVAILABLE } : { stars, color: starColor };
      return { reviewer, text, rating };
    });
    sendJson(res, 200, { id: productId, podname, clustername, reviews });
  });
}

export interface StartReviewsOptions extends StartOptions {
  version?: ReviewsVersion;
  /** Where failed ratings calls are reported (ReviewsHandlerOptions.log). */
  log?: (line: string) => void;
}

export function startReviews(opts: StartReviewsOptions = {}): Promise<RunningWorkload> {
  const version = opts.version ?? 'v1';
  const upstreams = reviewsFlavour(version).ratingsEnabled ? [upstreamHost('ratings', opts.env ?? process.env)] : [];
  const { log } = opts;
  return startWorkload('reviews', ({ fetch, env }) => createReviewsHandler({ version, fetch, env, ...(log ? { log } : {}) }), { ...opts, version }, upstreams);
}
