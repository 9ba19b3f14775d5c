// The request target of an admin API call, read strictly: path segments percent-decoded (a malformed
// escape is the client's mistake, a 400), and query parameters checked against what the route takes.
import { isDnsLabel, quote } from '@weft/api';
import { HttpError } from './http-utils.js';

export interface RequestTarget {
  /** As the client sent it (still percent-encoded, so safe to echo). */
  pathname: string;
  /** Decoded segments; a single trailing slash is ignored (`/v1/services/` is `/v1/services`). */
  segments: string[];
  query: URLSearchParams;
}

export function parseRequestTarget(rawUrl: string | undefined): RequestTarget {
  const raw = rawUrl ?? '/';
  let url: URL;
  try {
    // Origin-form (`/v1/...`) is read against a fixed base; `//x` stays a path, never a host.
    url = raw.startsWith('/') ? new URL(`http://weftd${raw}`) : new URL(raw);
  } catch {
    throw new HttpError(400, `malformed request target ${quote(raw)}`);
  }
  const pathname = url.pathname;
  const encoded = pathname.split('/').slice(1);
  if (encoded.length > 1 && encoded[encoded.length - 1] === '') encoded.pop();
  if (encoded.some((s, i) => s === '' && !(i === 0 && encoded.length === 1))) {
    throw new HttpError(404, `no such path ${pathname}: it has an empty segment (//)`);
  }
  const segments = encoded.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new HttpError(400, `malformed percent-encoding in path segment ${quote(s)} of ${pathname}: each % must start a valid UTF-8 escape such as %2F`);
    }
  });
  return { pathname, segments, query: url.searchParams };
}

export interface QueryOptions {
  namespace?: string;
  dryRun: boolean;
}

/**
 * Reads the query parameters a route takes (`allowed`), each at most once; an unknown parameter, a
 * namespace that cannot exist, or a dryRun other than true/false is a 400 naming it, so a typo such
 * as `?namespce=x` or `?dryRun=yes` never silently means something else.
 */
export function readQuery(query: URLSearchParams, pathname: string, allowed: readonly ('namespace' | 'dryRun')[]): QueryOptions {
  const seen = new Set<string>();
  for (const key of query.keys()) {
    if (!(allowed as readonly string[]).includes(key)) {
      const known = allowed.length ? `; ${pathname} takes ${allowed.join(', ')}` : `; ${pathname} takes none`;
      throw new HttpError(400, `unknown query parameter ${quote(key)}${known}`);
    }
    if (seen.has(key)) throw new HttpError(400, `query parameter ${key} given more than once`);
    seen.add(key);
  }
  const namespace = query.get('namespace') ?? undefined;
  if (namespace !== undefined) checkNamespace(namespace, 'query parameter namespace');
  const dryRun = query.get('dryRun');
  if (dryRun !== null && dryRun !== 'true' && dryRun !== 'false') {
    throw new HttpError(400, `query parameter dryRun must be true or false, got ${quote(dryRun)}`);
  }
  return { ...(namespace !== undefined ? { namespace } : {}), dryRun: dryRun === 'true' };
}

/** A 400 unless `namespace` is a DNS-1123 label (the only namespaces resources can have). */
export function checkNamespace(namespace: string, what: string): void {
  if (!isDnsLabel(namespace)) {
    throw new HttpError(400, `${what} ${quote(namespace)} is not a valid namespace (at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit)`);
  }
}
