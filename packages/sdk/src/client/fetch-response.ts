// The Response mesh.fetch returns: the platform's own class (globalThis.Response), so
// `res instanceof Response` holds and code typed against fetch takes it. A constructed Response has
// no URL and is never `redirected` (only the platform's fetch can set those), so a small subclass
// answers both; the URL is normalised (`new URL`) only when someone reads it.
import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';
import type { EnvoyLocalReply } from '../errors.js';
import type { OutboundResponse } from './pipeline.js';

/** Header naming Envoy's response flag on answers the mesh made itself (status mode of mesh.fetch). */
export const RESPONSE_FLAGS_HEADER = 'x-weft-response-flags';

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const kUrl = Symbol('weft.responseUrl');
const kRedirected = Symbol('weft.redirected');

const PlatformResponse = globalThis.Response;

/** globalThis.Response with the URL it came from and whether redirects led there. */
export class MeshResponse extends PlatformResponse {
  /** The final URL as given or resolved; read through `url` (normalised, without fragment). */
  declare [kUrl]: string;
  declare [kRedirected]: boolean;
}

// Accessors on the prototype: the platform declares `url` and `redirected` as getters, and TypeScript
// would take class accessors for overriding a property.
Object.defineProperties(MeshResponse.prototype, {
  url: {
    configurable: true,
    enumerable: true,
    get(this: MeshResponse): string {
      const raw = this[kUrl];
      if (raw === undefined) return '';
      const hash = raw.indexOf('#');
      const normalised = new URL(hash < 0 ? raw : raw.slice(0, hash)).href;
      this[kUrl] = normalised; // cheap next time
      return normalised;
    },
  },
  redirected: {
    configurable: true,
    enumerable: true,
    get(this: MeshResponse): boolean {
      return this[kRedirected] === true;
    },
  },
  clone: {
    configurable: true,
    writable: true,
    value(this: MeshResponse): Response {
      const copy = PlatformResponse.prototype.clone.call(this) as MeshResponse;
      Object.setPrototypeOf(copy, MeshResponse.prototype);
      copy[kUrl] = this[kUrl];
      copy[kRedirected] = this[kRedirected];
      return copy;
    },
  },
});

function make(body: ConstructorParameters<typeof PlatformResponse>[0], status: number, statusText: string | undefined, url: string, redirected: boolean): MeshResponse {
  const res = new MeshResponse(body, statusText === undefined ? { status } : { status, statusText });
  res[kUrl] = url;
  res[kRedirected] = redirected;
  return res;
}

/** The transport's response as a fetch Response; the body streams from the connection. */
export function toFetchResponse(res: OutboundResponse, method: string, url: string, redirected: boolean): Response {
  const nullBody = NULL_BODY_STATUSES.has(res.statusCode) || method === 'HEAD';
  if (nullBody) res.body.resume(); // nothing to read, but the connection must be released
  const out = make(nullBody ? null : webStreamOf(res.body), res.statusCode, res.statusText || undefined, url, redirected);
  // Appended to the response's own Headers: passing them in the init would copy them twice.
  const headers = out.headers;
  const raw = res.headers;
  for (const name in raw) {
    const v = raw[name];
    if (v === undefined) continue;
    if (typeof v === 'string') headers.append(name, v);
    else for (let i = 0; i < v.length; i++) headers.append(name, v[i]!);
  }
  return out;
}

/**
 * The connection's body as a web ReadableStream fed by the Readable's own events, with backpressure
 * (pause past 64 KiB queued, resume on pull). Handing the Readable over as an async iterable would
 * make the platform wrap it in a pull loop of promises, about twice the cost per response. Chunks
 * are enqueued as they are, never transferred: undici's buffers may share memory.
 */
function webStreamOf(body: Readable): ReadableStream<Uint8Array> {
  let open = true; // events can still arrive after a cancel; the controller must not see them
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        body.on('data', (chunk: Uint8Array | string) => {
          if (!open) return;
          // undici's bodies give Buffers; a stage's own Readable may give strings.
          controller.enqueue(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
          if ((controller.desiredSize ?? 1) <= 0) body.pause();
        });
        body.once('end', () => {
          if (!open) return;
          open = false;
          controller.close();
        });
        body.once('error', (e) => {
          if (!open) return;
          open = false;
          controller.error(e);
        });
      },
      pull() {
        if (open && body.isPaused()) body.resume();
      },
      cancel(reason) {
        open = false;
        body.destroy(reason instanceof Error ? reason : undefined);
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
}

/** The answer Envoy would have sent in place of a failure: status, its text body, and the flag in a header. */
export function localReplyResponse(reply: EnvoyLocalReply, url: string, redirected: boolean): Response {
  const out = make(reply.body === '' ? null : reply.body, reply.status, STATUS_CODES[reply.status], url, redirected);
  if (reply.body !== '') out.headers.set('content-type', 'text/plain');
  out.headers.set(RESPONSE_FLAGS_HEADER, reply.flag || '-');
  // Envoy marks a reply it made because a circuit breaker overflowed, so callers can back off.
  if (reply.flag === 'UO') out.headers.set('x-envoy-overloaded', 'true');
  return out;
}
