// mesh.fetch: the WHATWG fetch shape over the composed pipeline, typed as the platform's `fetch` so it
// is a drop-in. The bytes move through undici's dispatcher (pool.request) like mesh.request; only the
// ends are converted: (input, init) to an OutboundRequest, the result to the platform's Response.
// Like fetch it follows redirects (each hop through the whole pipeline: redirect.ts), rejects network
// failures with TypeError('fetch failed') whose `cause` is the WeftError, rejects bad arguments with a
// TypeError, and an abort with the signal's reason. With `errors: 'status'` a failure Envoy would
// have answered becomes that answer instead (status, Envoy's body, the flag in a header).
import { Readable } from 'node:stream';
import { envoyLocalReply, invalidArgument, isWeftError, isWeftErrorCode, WeftError } from '../errors.js';
import { localReplyResponse, toFetchResponse } from './fetch-response.js';
import { normalizeHeaders, type HeadersInput } from './headers.js';
import type { Handler, OutboundBody, OutboundHeaders, OutboundRequest, OutboundResponse } from './pipeline.js';
import { isRedirectStatus, nextHop, type Hop } from './redirect.js';
import type { Target, TargetParser } from './target.js';

/** How mesh.fetch reports a failure of the mesh: as fetch does (reject), or as Envoy does (status). */
export type FetchErrorMode = 'reject' | 'status';

/** @deprecated mesh.fetch takes the platform's own RequestInit. */
export type MeshFetchInit = RequestInit;

/** A WHATWG Request or anything shaped like one (url, method, headers, body). */
interface RequestLike {
  url: string;
  method?: string;
  headers?: HeadersInput;
  body?: unknown;
  signal?: AbortSignal | null;
  redirect?: string;
  arrayBuffer?(): Promise<ArrayBuffer>;
}

type RedirectMode = 'follow' | 'error' | 'manual';

export function fetchEdge(handler: Handler, targets: TargetParser, checkOpen: () => void, errors: FetchErrorMode = 'reject'): typeof fetch {
  const statusMode = errors === 'status';

  const send = (hop: Hop, target: Target, signal: AbortSignal | undefined): Promise<OutboundResponse> => {
    if (hop.headers.host === undefined) hop.headers.host = target.authority;
    const req: OutboundRequest = {
      method: hop.method,
      target,
      headers: hop.headers,
      body: hop.body,
      signal,
      external: target.kind === 'direct',
      route: undefined,
      endpoint: undefined,
      record: { flags: [], attempts: 0 },
    };
    return handler(req);
  };

  const meshFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const from = typeof input === 'string' || input instanceof URL ? undefined : (input as unknown as RequestLike);
    const signal = init?.signal ?? from?.signal ?? undefined;
    let url: string = typeof input === 'string' ? input : input instanceof URL ? input.href : '';
    let redirects = 0;
    try {
      checkOpen();
      if (from !== undefined && (typeof from !== 'object' || from === null || typeof from.url !== 'string')) {
        throw invalidArgument(`mesh.fetch needs a URL string, a URL or a Request, got ${from === null ? 'null' : typeof from}`);
      }
      if (from !== undefined) url = from.url;
      const target = targets.parse(typeof input === 'string' || input instanceof URL ? input : url);
      const method = checkMethod(init?.method ?? from?.method);
      const redirect = checkRedirect(init?.redirect ?? from?.redirect);
      const headers = normalizeHeaders((init?.headers ?? from?.headers) as HeadersInput, target.authority);
      const pending = requestBody(init, from, headers);
      const body = pending instanceof Promise ? await pending : pending; // no extra tick without a body
      if (body !== null && (method === 'GET' || method === 'HEAD')) throw invalidArgument(`a ${method} request cannot have a body`);
      if (signal?.aborted) throw signal.reason;

      let hop: Hop = { url, method, headers, body };
      let res = await send(hop, target, signal);
      while (redirect !== 'manual' && isRedirectStatus(res.statusCode)) {
        if (redirect === 'error') {
          discard(res);
          throw new WeftError('REDIRECT_FAILED', `${res.statusCode} redirect from ${hop.url} with redirect: 'error'`);
        }
        const location = res.headers.location;
        if (location === undefined) break; // a redirect status without Location is an answer like any other
        discard(res);
        hop = nextHop(hop, res.statusCode, Array.isArray(location) ? location[0]! : location, redirects);
        redirects++;
        url = hop.url;
        if (signal?.aborted) throw signal.reason;
        res = await send(hop, targets.parse(hop.url), signal);
      }
      return toFetchResponse(res, hop.method, url, redirects > 0);
    } catch (e) {
      if (signal?.aborted) throw signal.reason; // fetch rejects an aborted request with the signal's reason
      if (statusMode && isWeftError(e)) {
        const reply = envoyLocalReply(e);
        if (reply !== undefined) return localReplyResponse(reply, url, redirects > 0);
      }
      throw fetchFailure(e);
    }
  };
  return meshFetch as typeof fetch;
}

/** fetch's rejections: TypeError for bad arguments and for every network failure, the cause attached. */
function fetchFailure(e: unknown): unknown {
  if (isWeftErrorCode(e, 'INVALID_ARGUMENT')) return new TypeError(e.message, { cause: e });
  if (e instanceof TypeError) return e;
  return new TypeError('fetch failed', { cause: e });
}

const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

function checkMethod(method: string | undefined): string {
  if (method === undefined || method === 'GET') return 'GET';
  if (typeof method !== 'string') throw invalidArgument(`init.method must be a string, got ${typeof method}`);
  const upper = method.toUpperCase();
  if (FORBIDDEN_METHODS.has(upper)) throw invalidArgument(`'${method}' HTTP method is unsupported by fetch`);
  return upper;
}

function checkRedirect(redirect: string | undefined): RedirectMode {
  if (redirect === undefined || redirect === 'follow') return 'follow';
  if (redirect === 'error' || redirect === 'manual') return redirect;
  throw invalidArgument(`init.redirect must be 'follow', 'error' or 'manual', got ${JSON.stringify(redirect)}`);
}

/** The body of init (which wins) or of the Request, as bytes where it can be replayed after a redirect. */
function requestBody(init: RequestInit | undefined, from: RequestLike | undefined, headers: OutboundHeaders): OutboundBody | Promise<OutboundBody> {
  const raw = init?.body !== undefined ? init.body : from?.body;
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'string') {
    headers['content-type'] ??= 'text/plain;charset=UTF-8';
    return raw;
  }
  if (raw instanceof Uint8Array) return raw;
  // A Request's body is a stream whose source is out of reach: read it, so redirects can replay it.
  if (init?.body === undefined && typeof from?.arrayBuffer === 'function') return from.arrayBuffer().then((b) => new Uint8Array(b));
  return toOutboundBody(raw, headers);
}

async function toOutboundBody(body: unknown, headers: OutboundHeaders): Promise<OutboundBody> {
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof URLSearchParams) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    return body.toString();
  }
  if (body instanceof Readable) return body;
  if (typeof (body as ReadableStream).getReader === 'function') {
    return Readable.fromWeb(body as import('node:stream/web').ReadableStream);
  }
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') return Readable.from(body as AsyncIterable<unknown>);
  // Blob, FormData and anything else: let the platform's Response encode it as its fetch would.
  const encoded = new Response(body as ConstructorParameters<typeof Response>[0]);
  const type = encoded.headers.get('content-type');
  if (type !== null) headers['content-type'] ??= type;
  return new Uint8Array(await encoded.arrayBuffer());
}

/** Releases a response nobody will read (a redirect being followed or refused). */
function discard(res: OutboundResponse): void {
  const body = res.body as OutboundResponse['body'] & { dump?(): Promise<void> };
  if (typeof body.dump === 'function') body.dump().catch(() => undefined);
  else body.resume();
}
