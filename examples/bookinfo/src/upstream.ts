// How the Bookinfo services name and call their upstreams, with the original's environment overrides.

/** The shape of `mesh.fetch` (and of global fetch), so handlers run on either. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Base URL of an upstream service, e.g. `http://ratings:9080`. As in Istio's Bookinfo,
 * `<SERVICE>_HOSTNAME` and `<SERVICE>_SERVICE_PORT` override host and port, and `SERVICES_DOMAIN`
 * is appended to the host as `.<domain>`.
 */
export function upstreamBaseUrl(service: string, env: Env): string {
  const port = env[`${service.toUpperCase()}_SERVICE_PORT`] || '9080';
  return `http://${upstreamHost(service, env)}:${port}`;
}

/** The host part of upstreamBaseUrl, e.g. `ratings` or `ratings.bookinfo.svc.cluster.local`. */
export function upstreamHost(service: string, env: Env): string {
  const host = env[`${service.toUpperCase()}_HOSTNAME`] || service;
  return env.SERVICES_DOMAIN ? `${host}.${env.SERVICES_DOMAIN}` : host;
}

/** A GET with a deadline; resolves to the response or rejects (timeout, refused, no upstream...). */
export function getWithTimeout(fetchFn: FetchLike, url: string, headers: Record<string, string>, timeoutMs: number): Promise<Response> {
  return fetchFn(url, { method: 'GET', headers, signal: AbortSignal.timeout(timeoutMs) });
}

/** Reads a 200 JSON body, or undefined for any other status or a body that is not JSON. */
export async function jsonIfOk(res: Response): Promise<unknown> {
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => undefined);
    return undefined;
  }
  try {
    return (await res.json()) as unknown;
  } catch {
    return undefined;
  }
}
