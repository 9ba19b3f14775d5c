// Small helpers of the admin API: JSON answers, errors as data, bounded request bodies.
import type { IncomingMessage, ServerResponse } from 'node:http';

import { MAX_ADMIN_BODY_BYTES as MAX_BODY_BYTES } from '@weft/api';

/** An error the admin API answers with its status and `{"error": message, ...extra}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const CLIENT_GONE = Symbol.for('weft.ClientGoneError');

/**
 * The client went away (closed, reset, or was cut by the server's request timeout) before its
 * request was read: there is no one to answer, and nothing went wrong in weftd to log.
 */
export class ClientGoneError extends Error {
  readonly [CLIENT_GONE] = true;
  constructor(cause: unknown) {
    super(`client went away while sending its request (${cause instanceof Error ? cause.message : String(cause)})`);
    this.name = 'ClientGoneError';
  }
}

export function isClientGoneError(e: unknown): e is ClientGoneError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[CLIENT_GONE] === true;
}

/**
 * Reads the whole body as UTF-8 text, refusing (413) one larger than `limit` bytes and (400) one
 * that is not UTF-8. Throws ClientGoneError when the client leaves before the body is complete.
 */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new HttpError(413, `request body of ${declared} bytes is larger than the limit of ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw new HttpError(413, `request body is larger than the limit of ${limit} bytes`);
      chunks.push(chunk);
    }
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new ClientGoneError(e);
  }
  if (!req.complete) throw new ClientGoneError('the body ended early');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new HttpError(400, 'request body is not valid UTF-8; send the manifest or JSON as UTF-8 text');
  }
}
