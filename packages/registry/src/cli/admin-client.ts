// weftctl's side of the admin API: JSON requests, HTTP errors turned into messages a user can act on.

export interface ApiIssue {
  source?: string;
  path?: string;
  message: string;
}

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
  constructor(readonly baseUrl: string) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new AdminRequestError(`cannot reach weftd at ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (e as Error).message}`, undefined);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const err = parsed as { error?: unknown; issues?: unknown } | undefined;
      const message = typeof err?.error === 'string' ? err.error : `HTTP ${res.status} from ${method} ${url.pathname}: ${text.slice(0, 200)}`;
      throw new AdminRequestError(message, res.status, Array.isArray(err?.issues) ? (err.issues as ApiIssue[]) : []);
    }
    if (typeof parsed !== 'object' || parsed === null) {
      throw new AdminRequestError(`weftd at ${this.baseUrl} answered ${method} ${url.pathname} with something other than a JSON object: ${text.slice(0, 200)}`, res.status);
    }
    return parsed as T;
  }
}
