// Redirects as WHATWG fetch follows them (https://fetch.spec.whatwg.org/#http-redirect-fetch), for
// mesh.fetch. Pure: from one hop's request and its redirect response, the next hop's request or why
// fetch would fail. The edge sends each hop through the whole pipeline again, so a Location naming a
// mesh host is routed and balanced like any request, and one outside the mesh goes out as addressed.
import { Readable } from 'node:stream';
import { WeftError } from '../errors.js';
import type { OutboundBody, OutboundHeaders } from './pipeline.js';

/** fetch's limit: the 21st redirect is a network error. */
export const MAX_REDIRECTS = 20;

/** Headers that describe a body; dropped with the body when a redirect turns the method into GET. */
const BODY_HEADERS = ['content-encoding', 'content-language', 'content-location', 'content-type', 'content-length'];
/** Credentials that must not follow a redirect to another origin (fetch drops authorization; undici also these). */
const CROSS_ORIGIN_DROPPED = ['authorization', 'proxy-authorization', 'cookie', 'host'];

export interface Hop {
  /** Absolute URL of this hop as given or resolved. */
  url: string;
  method: string;
  headers: OutboundHeaders;
  body: OutboundBody;
}

export function isRedirectStatus(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/**
 * The request for the Location of a redirect response, given how many redirects were followed
 * before it. Throws REDIRECT_FAILED where fetch rejects with a network error.
 */
export function nextHop(hop: Hop, status: number, location: string, followed: number): Hop {
  let next: URL;
  try {
    next = new URL(location, hop.url);
  } catch {
    throw failed(`${status} from ${hop.url} has a Location that is not a URL: ${JSON.stringify(location)}`);
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw failed(`${status} from ${hop.url} redirects to ${next.protocol} (${next.href}); fetch follows only http: and https:`);
  }
  if (followed >= MAX_REDIRECTS) throw failed(`redirect count exceeded: more than ${MAX_REDIRECTS} redirects, the last from ${hop.url} to ${next.href}`);
  if (status !== 303 && hop.body instanceof Readable) {
    throw failed(
      `${status} from ${hop.url} asks to send the request body again, but it was a stream and is spent; fetch fails the same way. Send a string or bytes to let redirects replay it`,
    );
  }
  let method = hop.method;
  let body = hop.body;
  const headers: OutboundHeaders = { ...hop.headers };
  if (((status === 301 || status === 302) && method === 'POST') || (status === 303 && method !== 'GET' && method !== 'HEAD')) {
    method = 'GET';
    body = null;
    for (const name of BODY_HEADERS) delete headers[name];
  }
  if (new URL(hop.url).origin !== next.origin) for (const name of CROSS_ORIGIN_DROPPED) delete headers[name];
  return { url: next.href, method, headers, body };
}

function failed(message: string): WeftError {
  return new WeftError('REDIRECT_FAILED', message);
}
