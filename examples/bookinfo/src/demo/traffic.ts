// Drives requests at productpage the way a browser does and counts which reviews version answered.
import { RATINGS_UNAVAILABLE } from '../reviews.js';

/** "Reviews served by: <podname>" as productpage renders it; the podname starts with the workload name. */
const SERVED_BY = /Reviews served by:\s*(?:<[^>]*>\s*)*([^<\s]+)/;
const REVIEWS_VERSION = /^reviews-(v\d+)\b/;

export interface TrafficResult {
  /** Answers per reviews version (`v1`, `v2`, ...); `error` counts pages without reviews. */
  byVersion: Map<string, number>;
  /** Responses per status other than 200, and `network` for failed requests. */
  failures: Map<string, number>;
  /** Pages (200) whose reviews say "Ratings service is currently unavailable". */
  ratingsUnavailable: number;
  total: number;
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** The reviews version that served a productpage HTML page, or undefined when reviews failed. */
export function servedVersion(html: string): string | undefined {
  const podname = SERVED_BY.exec(html)?.[1];
  return podname ? REVIEWS_VERSION.exec(podname)?.[1] : undefined;
}

export async function driveProductPage(pageUrl: string, requests: number, opts: { cookie?: string; concurrency?: number } = {}): Promise<TrafficResult> {
  const result: TrafficResult = { byVersion: new Map(), failures: new Map(), ratingsUnavailable: 0, total: 0 };
  let next = 0;
  const worker = async () => {
    while (next < requests) {
      next++;
      try {
        const res = await fetch(pageUrl, { headers: opts.cookie ? { cookie: opts.cookie } : {}, signal: AbortSignal.timeout(15_000) });
        const html = await res.text();
        if (res.status !== 200) bump(result.failures, String(res.status));
        else {
          bump(result.byVersion, servedVersion(html) ?? 'error');
          if (html.includes(RATINGS_UNAVAILABLE)) result.ratingsUnavailable++;
        }
      } catch {
        bump(result.failures, 'network');
      }
      result.total++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, requests) }, worker));
  return result;
}

/** Logs in at productpage like the sign-in form does and returns the session cookie. */
export async function logIn(baseUrl: string, user: string): Promise<string> {
  const res = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    body: new URLSearchParams({ username: user, passwd: '' }),
    headers: { referer: `${baseUrl}/productpage` },
    redirect: 'manual',
    signal: AbortSignal.timeout(5_000),
  });
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  if (res.status !== 302 || !cookie) throw new Error(`login as ${user} failed: HTTP ${res.status}`);
  return cookie;
}

export interface ReviewsTally {
  /** Answers per reviews version, read from the `podname` of productpage's reviews API. */
  byVersion: Map<string, number>;
  /** Non-200 answers and failed requests. */
  failures: number;
  total: number;
}

/**
 * Sends `requests` GETs to productpage's `/api/v1/products/0/reviews` (the same productpage → reviews
 * hop as the page, without rendering HTML, so a thousand requests stay fast) and tallies the versions.
 */
export async function tallyReviewsApi(productpageUrl: string, requests: number, opts: { cookie?: string; concurrency?: number } = {}): Promise<ReviewsTally> {
  const tally: ReviewsTally = { byVersion: new Map(), failures: 0, total: 0 };
  let next = 0;
  const worker = async () => {
    while (next < requests) {
      next++;
      try {
        const res = await fetch(`${productpageUrl}/api/v1/products/0/reviews`, {
          headers: opts.cookie ? { cookie: opts.cookie } : {},
          signal: AbortSignal.timeout(15_000),
        });
        const body = (await res.json()) as { podname?: unknown };
        const version = typeof body.podname === 'string' ? REVIEWS_VERSION.exec(body.podname)?.[1] : undefined;
        if (res.status !== 200 || !version) tally.failures++;
        else bump(tally.byVersion, version);
      } catch {
        tally.failures++;
      }
      tally.total++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 16, requests) }, worker));
  return tally;
}
