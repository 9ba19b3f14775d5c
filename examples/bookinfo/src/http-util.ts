// Small response/request helpers shared by the Bookinfo services, so each handler reads as its routes.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Writes `body` as JSON with the status; key order is the object's own insertion order. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  sendText(res, status, html, 'text/html; charset=utf-8');
}

export function sendNotFound(res: ServerResponse): void {
  sendText(res, 404, 'Not Found');
}

export function redirect(res: ServerResponse, location: string, extraHeaders: Record<string, string | string[]> = {}): void {
  res.writeHead(302, { location, 'content-length': 0, ...extraHeaders });
  res.end();
}

/** Request bodies here are tiny (ratings JSON, a login form); anything bigger is refused rather than buffered. */
export const MAX_BODY_BYTES = 64 * 1024;

export class BodyTooLargeError extends Error {
  constructor() {
    super(`request body exceeds ${MAX_BODY_BYTES} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new BodyTooLargeError();
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Path and query of the request, parsed against a dummy origin (only the path matters to routing). */
export function requestUrl(req: IncomingMessage): URL {
  return new URL(req.url ?? '/', 'http://bookinfo.invalid');
}

/** Wraps an async listener so a thrown error becomes a 500 instead of an unhandled rejection. */
export function guarded(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof BodyTooLargeError) {
        if (!res.headersSent) sendJson(res, 413, { error: err.message });
        return;
      }
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
      // Keep going: one bad request must not take the workload down.
      console.error(`${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    });
  };
}
