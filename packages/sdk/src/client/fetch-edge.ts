// mesh.fetch: the WHATWG fetch shape over the composed pipeline. The bytes move through undici's
// dispatcher (pool.request) like mesh.request; only the ends are converted: the init to an
// OutboundRequest, the result to undici's Response.
import { Readable } from 'node:stream';
import { Headers, Response } from 'undici';
import { invalidArgument } from '../errors.js';
import { normalizeHeaders, type HeadersInput } from './headers.js';
import type { Handler, OutboundBody, OutboundRequest, OutboundResponse } from './pipeline.js';
import type { TargetParser } from './target.js';

export interface MeshFetchInit {
  method?: string;
  headers?: HeadersInput;
  body?: unknown;
  signal?: AbortSignal | null;
}

/** A WHATWG Request or anything shaped like one (url, method, headers, body). */
interface RequestLike {
  url: string;
  method?: string;
  headers?: HeadersInput;
  body?: unknown;
  signal?: AbortSignal | null;
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

export function fetchEdge(
  handler: Handler,
  targets: TargetParser,
  checkOpen: () => void,
): (input: string | URL | RequestLike, init?: MeshFetchInit) => Promise<Response> {
  const toWhatwg = (res: OutboundResponse, method: string): Response => toFetchResponse(res, method);
  return async (input, init) => {
    checkOpen();
    const isRequestLike = typeof input === 'object' && !(input instanceof URL);
    const target = targets.parse(isRequestLike ? (input as RequestLike).url : (input as string | URL));
    const from = isRequestLike ? (input as RequestLike) : undefined;
    const method = (init?.method ?? from?.method ?? 'GET').toUpperCase();
    const headers = normalizeHeaders(init?.headers ?? from?.headers, target.authority);
    const rawBody = init?.body !== undefined ? init.body : from?.body;
    const body = rawBody === undefined || rawBody === null ? null : await toOutboundBody(rawBody, headers);
    if (body !== null && (method === 'GET' || method === 'HEAD')) throw invalidArgument(`a ${method} request cannot have a body`);
    const req: OutboundRequest = {
      method,
      target,
      headers,
      body,
      signal: init?.signal ?? from?.signal ?? undefined,
      route: undefined,
      endpoint: undefined,
    };
    return toWhatwg(await handler(req), method);
  };
}

async function toOutboundBody(body: unknown, headers: Record<string, string | string[]>): Promise<OutboundBody> {
  if (typeof body === 'string') {
    headers['content-type'] ??= 'text/plain;charset=UTF-8';
    return body;
  }
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof Readable) return body;
  if (typeof (body as ReadableStream).getReader === 'function') {
    return Readable.fromWeb(body as import('node:stream/web').ReadableStream);
  }
  // URLSearchParams, Blob, FormData: let undici's Response encode it as fetch would (bytes + content type).
  const encoded = new Response(body as ConstructorParameters<typeof Response>[0]);
  const type = encoded.headers.get('content-type');
  if (type !== null) headers['content-type'] ??= type;
  return new Uint8Array(await encoded.arrayBuffer());
}

function toFetchResponse(res: OutboundResponse, method: string): Response {
  const headers = new Headers();
  const raw = res.headers;
  for (const name in raw) {
    const v = raw[name];
    if (v === undefined) continue;
    if (typeof v === 'string') headers.append(name, v);
    else for (const item of v) headers.append(name, item);
  }
  if (NULL_BODY_STATUSES.has(res.statusCode) || method === 'HEAD') {
    res.body.resume(); // nothing to read, but the connection must be released
    return new Response(null, { status: res.statusCode, headers });
  }
  return new Response(res.body as unknown as AsyncIterable<Uint8Array>, { status: res.statusCode, headers });
}
