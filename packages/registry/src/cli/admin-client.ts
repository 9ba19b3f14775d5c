// weftctl's side of the admin API: JSON requests, HTTP errors turned into messages a user can act on.
// Requests go through node:http rather than fetch: fetch refuses a list of "bad ports" (6000, 6665-6669,
// 10080, ...) on which an operator may well run weftd's admin API, and it hides the bytes that tell the
// session port (HTTP/2) from some other server.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { PeerCertificate } from 'node:tls';
import { formatDuration, isWeftdSpiffeId } from '@weft/api';
import type { AdminCredential } from '../admin/admin-credential.js';
import { explainRequestFailure } from './reach-failure.js';

export interface ApiIssue {
  source?: string;
  path?: string;
  message: string;
  /** The offending line of the input and a caret under the column, for syntax errors. */
  excerpt?: string;
}

/** How long weftctl waits for one answer unless --request-timeout says otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** The largest answer read: a list of the whole stored config (at most 16 MiB) with room to spare. */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

const BRAND = Symbol.for('weft.AdminRequestError');

/** weftd answered with an error status, or could not be reached. */
export class AdminRequestError extends Error {
  readonly [BRAND] = true;
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly issues: ApiIssue[] = [],
  ) {
    super(message);
    this.name = 'AdminRequestError';
  }
}

export function isAdminRequestError(e: unknown): e is AdminRequestError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

export class AdminClient {
  private readonly agent: HttpAgent;

  /**
   * `timeoutMs` 0 waits for ever (as kubectl's --request-timeout 0). With a `credential`, weftd is
   * trusted by the roots in it and by its identity (weftdSpiffeId, whatever address it is reached by),
   * and every request carries the credential's token.
   */
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
    private readonly credential?: AdminCredential & { source: string },
  ) {
    // One connection reused across the requests of one command (get vs a b c).
    this.agent = baseUrl.startsWith('https:')
      ? // ALPN http/1.1: weftd's session port (HTTP/2 only) then refuses the handshake, which reach-failure.ts names.
        new HttpsAgent({ keepAlive: true, ALPNProtocols: ['http/1.1'], ...(credential ? { ca: credential.caPem, checkServerIdentity: checkWeftdIdentity } : {}) })
      : new HttpAgent({ keepAlive: true });
  }

  /** Closes the kept-alive connection, so that the process can exit at once. */
  close(): void {
    this.agent.destroy();
  }

  /** Sends `body` (if any) as JSON; resolves with the JSON object weftd answers, or throws AdminRequestError. */
  request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.requestJson<T>(method, path, body === undefined ? undefined : JSON.stringify(body));
  }

  /** As request, with the body already JSON text. */
  async requestJson<T>(method: string, path: string, payload: string | undefined): Promise<T> {
    const url = new URL(path, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    const { status, contentType, text } = await this.send(method, url, payload);
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const json = /^application\/json\b/i.test(contentType);
    if (status < 200 || status > 299) {
      const err = parsed as { error?: unknown; issues?: unknown } | undefined;
      if (json && typeof err?.error === 'string') {
        throw new AdminRequestError(err.error, status, Array.isArray(err.issues) ? (err.issues as ApiIssue[]) : []);
      }
      throw new AdminRequestError(`${this.baseUrl} answered ${method} ${url.pathname} with HTTP ${status}${this.notWeftd(contentType, text)}`, status);
    }
    if (!json || typeof parsed !== 'object' || parsed === null) {
      throw new AdminRequestError(`${this.baseUrl} answered ${method} ${url.pathname} with something other than a JSON object${this.notWeftd(contentType, text)}`, status);
    }
    return parsed as T;
  }

  /** The tail of a message about an answer weftd would not give: what came, and what to check. */
  private notWeftd(contentType: string, text: string): string {
    const shown = text.slice(0, 200).replace(/\s+/g, ' ').trim();
    return ` (${contentType || 'no content type'}${shown ? `: ${shown}` : ''}); is ${this.baseUrl} weftd's admin API? Check --server or WEFT_SERVER`;
  }

  private send(method: string, url: URL, payload: string | undefined): Promise<{ status: number; contentType: string; text: string }> {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const fail = (e: unknown) => {
        clearTimeout(timer);
        reject(new AdminRequestError(explainRequestFailure(this.baseUrl, e, this.credential?.source), undefined));
      };
      const headers: Record<string, string> = payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) };
      if (this.credential) headers['authorization'] = `Bearer ${this.credential.token}`;
      const req = request(url, { method, headers, agent: this.agent }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new Error(`the answer is larger than ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      const timer =
        this.timeoutMs > 0
          ? setTimeout(() => {
              req.destroy();
              reject(
                new AdminRequestError(
                  `no answer from ${this.baseUrl} within ${formatDuration(this.timeoutMs)} (--request-timeout); is it weftd's admin API, and is weftd running and not stopped?`,
                  undefined,
                ),
              );
            }, this.timeoutMs)
          : undefined;
      req.on('error', fail);
      req.end(payload);
    });
  }
}

/** Accepts the server when its certificate (already verified against the credential's roots) is weftd's. */
function checkWeftdIdentity(_host: string, cert: PeerCertificate): Error | undefined {
  const uris = String(cert.subjectaltname ?? '').split(', ').filter((n) => n.startsWith('URI:')).map((n) => n.slice(4));
  if (uris.some(isWeftdSpiffeId)) return undefined;
  const e = new Error(`the server's certificate is signed by the mesh CA but is not weftd's (it names ${uris.join(', ') || 'no SPIFFE ID'}); is --server a workload rather than weftd?`);
  (e as NodeJS.ErrnoException).code = 'ERR_WEFT_NOT_WEFTD';
  return e;
}
