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

/** How much of a body past the limit is read and dropped before the 413, and for how long at most. */
const DRAIN_BYTES = 16 * 1024 * 1024;
const DRAIN_MS = 2000;

/**
 * Reads the whole body as UTF-8 text, refusing (413) one larger than `limit` bytes and (400) one
 * that is not UTF-8. Throws ClientGoneError when the client leaves before the body is complete.
 */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new HttpError(413, `request body of ${declared} bytes is larger than the limit of ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  // Not `for await`: leaving that loop early destroys the request and with it the socket. Past the
  // limit the rest is read and dropped until the body ends (at most DRAIN_BYTES more, for at most
  // DRAIN_MS), and only then refused: answering while the client still sends would close a socket with
  // unread data, and the reset that follows can destroy the 413 before the client reads it.
  await new Promise<void>((resolve, reject) => {
    let over = false;
    const refuse = () => {
      clearTimeout(drainTimer);
      reject(new HttpError(413, `request body is larger than the limit of ${limit} bytes; split the manifest and apply it in parts`));
    };
    let drainTimer: NodeJS.Timeout | undefined;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (over) {
        if (size > limit + DRAIN_BYTES) refuse();
        return;
      }
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      over = true;
      chunks.length = 0;
      drainTimer = setTimeout(refuse, DRAIN_MS);
      drainTimer.unref();
    });
    req.once('end', () => (over ? refuse() : resolve()));
    req.once('error', (e) => reject(new ClientGoneError(e)));
    req.once('close', () => {
      if (!req.complete) reject(new ClientGoneError('the body ended early'));
    });
  });
  if (!req.complete) throw new ClientGoneError('the body ended early');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new HttpError(400, 'request body is not valid UTF-8; send the manifest or JSON as UTF-8 text');
  }
}
