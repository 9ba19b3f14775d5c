// An inbound request as AuthorizationPolicy reads it. Each attribute is computed on first use, so a
// policy that reads only the method pays nothing for the path, host or caller address; the caller's
// parsed address is kept per connection, not per request.
import type http from 'node:http';
import type { Socket } from 'node:net';
import { parseIp } from '@weft/api';
import type { AuthorizationRequest } from '../config/authorization-request.js';
import { needsNormalization, normalizePath } from './normalize-path.js';
import { peerOf } from './peer-identity.js';

const addressBySocket = new WeakMap<Socket, Uint8Array | null>();

function socketAddress(socket: Socket): Uint8Array | undefined {
  let ip = addressBySocket.get(socket);
  if (ip === undefined) {
    const text = socket.remoteAddress;
    ip = (text === undefined ? undefined : parseIp(text)) ?? null;
    addressBySocket.set(socket, ip);
  }
  return ip ?? undefined;
}

const ABSOLUTE_FORM = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/;

/**
 * The path and the query (with its `?`) of a request target. An absolute-form target
 * (`GET http://host/admin`, which Node passes on as sent) yields its path, as Envoy reads it, so
 * that it cannot slip past a rule on `/admin`.
 */
function splitTarget(url: string): { path: string; query: string } {
  const authority = url[0] === '/' ? undefined : ABSOLUTE_FORM.exec(url);
  const rest = authority ? url.slice(authority[0].length) || '/' : url;
  const q = rest.indexOf('?');
  return q < 0 ? { path: rest, query: '' } : { path: rest.slice(0, q), query: rest.slice(q) };
}

/** The path part of a request target (`/a?b` → `/a`), normalized as Envoy does. */
function pathOf(url: string): string {
  if (url[0] === '/') {
    const q = url.indexOf('?');
    return normalizePath(q < 0 ? url : url.slice(0, q));
  }
  return normalizePath(splitTarget(url).path);
}

export class InboundRequest implements AuthorizationRequest {
  private pathValue: string | undefined;
  private hostValue: string | undefined;
  private hostWithoutPortValue: string | undefined;

  constructor(private readonly req: http.IncomingMessage) {}

  get method(): string {
    return this.req.method ?? '';
  }

  get path(): string {
    return (this.pathValue ??= this.req.url === '*' ? '*' : pathOf(this.req.url ?? '/'));
  }

  get host(): string {
    return (this.hostValue ??= (this.req.headers.host ?? '').toLowerCase());
  }

  get hostWithoutPort(): string {
    if (this.hostWithoutPortValue === undefined) {
      const h = this.host;
      const colon = h.lastIndexOf(':');
      // `[::1]:8080` has its port after the bracket; `[::1]` and `::1` have none.
      this.hostWithoutPortValue = colon > 0 && colon > h.lastIndexOf(']') && /^[0-9]+$/.test(h.slice(colon + 1)) ? h.slice(0, colon) : h;
    }
    return this.hostWithoutPortValue;
  }

  get destinationPort(): number {
    return this.req.socket.localPort ?? 0;
  }

  get sourceIp(): Uint8Array | undefined {
    return socketAddress(this.req.socket);
  }

  get headers(): http.IncomingHttpHeaders {
    return this.req.headers;
  }

  /** The client certificate's identity on an mTLS connection; undefined on a plaintext one. */
  get principal(): string | undefined {
    return peerOf(this.req)?.principal;
  }

  get namespace(): string | undefined {
    return peerOf(this.req)?.namespace;
  }
}

/**
 * Hands the handler the path the policies judged, as Envoy forwards the normalized path (only when
 * normalization changed it; the query string is kept as sent).
 */
export function forwardNormalizedPath(req: http.IncomingMessage): void {
  const url = req.url ?? '/';
  if (url[0] === '/' && !needsNormalization(url.indexOf('?') < 0 ? url : url.slice(0, url.indexOf('?')))) return;
  if (url === '*') return; // OPTIONS *: no path to normalize
  const { path, query } = splitTarget(url);
  const normalized = normalizePath(path);
  if (normalized + query !== url) req.url = normalized + query;
}
