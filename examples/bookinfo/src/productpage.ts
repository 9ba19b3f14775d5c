// productpage v1 (Istio's productpage.py): the book page and its JSON API, calling details and reviews
// (and ratings for /api/v1/products/{id}/ratings) with the original's timeouts and its reviews retry.
import type { IncomingMessage, RequestListener } from 'node:http';
import { b3Headers, copyHeaders, PRODUCTPAGE_COPIED_HEADERS } from './headers.js';
import { guarded, readBody, redirect, requestUrl, sendHtml, sendJson, sendNotFound, sendText } from './http-util.js';
import { renderIndexPage, renderProductPage, type Product, type ServiceNode, type UpstreamResult } from './productpage-html.js';
import { createSessionCodec, type SessionCodec } from './session.js';
import { jsonIfOk, upstreamBaseUrl, upstreamHost, type Env, type FetchLike } from './upstream.js';
import { startWorkload, type RunningWorkload, type StartOptions } from './workload-runtime.js';

/** The original's `requests.get(..., timeout=3.0)` on every upstream call. */
export const UPSTREAM_TIMEOUT_MS = 3_000;
/** "Bug introduced explicitly for illustration in fault injection task": reviews is tried twice. */
export const REVIEWS_ATTEMPTS = 2;

export const PRODUCT_DETAILS_UNAVAILABLE = 'Sorry, product details are currently unavailable for this book.';
export const PRODUCT_REVIEWS_UNAVAILABLE = 'Sorry, product reviews are currently unavailable for this book.';
export const PRODUCT_RATINGS_UNAVAILABLE = 'Sorry, product ratings are currently unavailable for this book.';

export const PRODUCTS: readonly Product[] = [
  {
    id: 0,
    title: 'The Comedy of Errors',
    descriptionHtml:
      '<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: ' +
      'The Comedy of Errors is among <b>William Shakespeare\'s</b> earliest and shortest plays: two sets of identical twins, ' +
      'separated at birth, turn one day in Ephesus into a farce of mistaken identity, slapstick and wordplay.',
  },
];

export interface ProductPageHandlerOptions {
  /** Calls details, reviews and ratings; `mesh.fetch` in a workload. */
  fetch: FetchLike;
  /** DETAILS_/REVIEWS_/RATINGS_HOSTNAME, *_SERVICE_PORT, SERVICES_DOMAIN. */
  env?: Env;
  /** Signs the session cookie; instances sharing logins need the same secret (SESSION_SECRET). */
  sessionSecret?: string;
}

// A header value must be visible ASCII; a user name that is not is still logged in but not sent
// upstream as end-user (the call would otherwise fail on an invalid header).
const HEADER_SAFE = /^[\x20-\x7e]+$/;

/** The product id segment of /api/v1/products/{id}[/reviews|/ratings]. */
const PRODUCT_API = /^\/api\/v1\/products\/([^/]+)(?:\/(reviews|ratings))?$/;

export function createProductPageHandler(opts: ProductPageHandlerOptions): RequestListener {
  const env = opts.env ?? process.env;
  const secret = opts.sessionSecret ?? env.SESSION_SECRET;
  const sessions: SessionCodec = secret ? createSessionCodec(secret) : createSessionCodec();
  const base = {
    details: upstreamBaseUrl('details', env),
    reviews: upstreamBaseUrl('reviews', env),
    ratings: upstreamBaseUrl('ratings', env),
  };
  const ratingsNode: ServiceNode = { name: base.ratings, endpoint: 'ratings', children: [] };
  const serviceTree: ServiceNode = {
    name: 'http://productpage:9080',
    endpoint: 'productpage',
    children: [
      { name: base.details, endpoint: 'details', children: [] },
      { name: base.reviews, endpoint: 'reviews', children: [ratingsNode] },
    ],
  };

  function forwardHeaders(req: IncomingMessage): Record<string, string> {
    const headers = { ...b3Headers(req.headers), ...copyHeaders(req.headers, PRODUCTPAGE_COPIED_HEADERS) };
    const user = sessions.userFrom(req.headers.cookie);
    if (user !== undefined && HEADER_SAFE.test(user)) headers['end-user'] = user;
    return headers;
  }

  /** One upstream GET; any failure (timeout, refused, non-JSON) is folded into a status like the original. */
  async function callOnce(url: string, headers: Record<string, string>): Promise<UpstreamResult> {
    let res: Response;
    try {
      res = await opts.fetch(url, { method: 'GET', headers, signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS) });
    } catch {
      return { status: 500, body: undefined };
    }
    const status = res.status;
    const body = await jsonIfOk(res).catch(() => undefined);
    if (status === 200 && body === undefined) return { status: 500, body: undefined };
    return { status, body };
  }

  async function getUpstream(url: string, headers: Record<string, string>, unavailable: string, attempts = 1): Promise<UpstreamResult> {
    let last: UpstreamResult = { status: 500, body: undefined };
    for (let attempt = 0; attempt < attempts; attempt++) {
      last = await callOnce(url, headers);
      if (last.status === 200) return last;
    }
    return { status: last.status || 500, body: { error: unavailable } };
  }

  const productDetails = (id: string, headers: Record<string, string>) =>
    getUpstream(`${base.details}/details/${id}`, headers, PRODUCT_DETAILS_UNAVAILABLE);
  const productReviews = (id: string, headers: Record<string, string>) =>
    getUpstream(`${base.reviews}/reviews/${id}`, headers, PRODUCT_REVIEWS_UNAVAILABLE, REVIEWS_ATTEMPTS);
  const productRatings = (id: string, headers: Record<string, string>) =>
    getUpstream(`${base.ratings}/ratings/${id}`, headers, PRODUCT_RATINGS_UNAVAILABLE);

  /** Where /login and /logout send the browser back to: the Referer, as Flask's redirect(request.referrer). */
  function backTo(req: IncomingMessage): string {
    const referer = req.headers.referer;
    return typeof referer === 'string' && referer !== '' ? referer : '/productpage';
  }

  return guarded(async (req, res) => {
    const url = requestUrl(req);
    const path = url.pathname;
    const method = req.method ?? 'GET';

    if (method === 'POST' && path === '/login') {
      const form = new URLSearchParams(await readBody(req));
      const user = form.get('username') ?? url.searchParams.get('username') ?? '';
      redirect(res, backTo(req), user ? { 'set-cookie': sessions.loginCookie(user) } : {});
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      sendNotFound(res);
      return;
    }
    if (path === '/' || path === '/index.html') {
      sendHtml(res, 200, renderIndexPage(serviceTree, sessions.userFrom(req.headers.cookie)));
      return;
    }
    if (path === '/health') {
      sendText(res, 200, 'Product page is healthy', 'text/html; charset=utf-8');
      return;
    }
    if (path === '/logout') {
      redirect(res, backTo(req), { 'set-cookie': sessions.logoutCookie() });
      return;
    }
    if (path === '/productpage') {
      const headers = forwardHeaders(req);
      const productId = 0; // hard-coded in the original too
      // Sequential, as the original: details first, then reviews.
      const details = await productDetails(String(productId), headers);
      const reviews = await productReviews(String(productId), headers);
      const user = sessions.userFrom(req.headers.cookie);
      sendHtml(res, 200, renderProductPage({ product: PRODUCTS[productId]!, details, reviews, user }));
      return;
    }
    if (path === '/api/v1/products') {
      sendJson(res, 200, PRODUCTS);
      return;
    }
    const api = PRODUCT_API.exec(path);
    if (api) {
      // The id is passed upstream as given (details answers 400 for a non-number); encoding keeps it one segment.
      const id = encodeURIComponent(decodeSegment(api[1]!));
      const headers = forwardHeaders(req);
      const lookup = api[2] === 'reviews' ? productReviews : api[2] === 'ratings' ? productRatings : productDetails;
      const result = await lookup(id, headers);
      sendJson(res, result.status, result.body);
      return;
    }
    sendNotFound(res);
  });
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export interface StartProductPageOptions extends StartOptions {
  sessionSecret?: string;
}

export function startProductPage(opts: StartProductPageOptions = {}): Promise<RunningWorkload> {
  return startWorkload(
    'productpage',
    ({ fetch, env }) => createProductPageHandler({ fetch, env, ...(opts.sessionSecret ? { sessionSecret: opts.sessionSecret } : {}) }),
    opts,
    ['details', 'reviews', 'ratings'].map((service) => upstreamHost(service, opts.env ?? process.env)),
  );
}
