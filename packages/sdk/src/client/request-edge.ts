// mesh.request: the request-shaped fast path (undici's request() shape) over the composed pipeline.
import type { Readable } from 'node:stream';
import { invalidArgument } from '../errors.js';
import { normalizeHeaders, type HeadersInput } from './headers.js';
import type { Handler, OutboundBody, OutboundRequest, OutboundResponse } from './pipeline.js';
import type { TargetParser } from './target.js';

export interface MeshRequestOptions {
  method?: string;
  headers?: HeadersInput;
  body?: string | Uint8Array | Readable | null;
  signal?: AbortSignal;
}

export type MeshResponseData = OutboundResponse;

export function requestEdge(
  handler: Handler,
  targets: TargetParser,
  checkOpen: () => void,
): (url: string | URL, options?: MeshRequestOptions) => Promise<MeshResponseData> {
  return (url, options) => {
    try {
      checkOpen();
      const target = targets.parse(url);
      const req: OutboundRequest = {
        method: options?.method ? options.method.toUpperCase() : 'GET',
        target,
        headers: normalizeHeaders(options?.headers, target.authority),
        body: checkBody(options?.body),
        signal: options?.signal,
        external: target.kind === 'direct',
        route: undefined,
        endpoint: undefined,
        record: { flags: [], attempts: 0 },
      };
      return handler(req);
    } catch (e) {
      return Promise.reject(e);
    }
  };
}

function checkBody(body: unknown): OutboundBody {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (typeof (body as Readable).pipe === 'function') return body as Readable;
  throw invalidArgument('mesh.request body must be a string, a Uint8Array/Buffer or a Readable');
}
