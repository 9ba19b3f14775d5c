// The compiled, immutable form of what a VirtualService http route does besides choosing where to send
// (headers, rewrite, redirect, directResponse), and the operations the stages run with it. Built once
// per config update (compile-route-actions.ts); per request a stage follows references and runs these
// small loops, never parses a rule. Nothing here knows about undici or fetch: the gRPC edge can run the
// same operations on its metadata.
//
// Envoy's semantics, which Istio's translation relies on:
// - one header "pass" per Envoy header parser: its removals first, then its additions in order; `set`
//   replaces every value of the header, `add` appends one more; an empty value is not added;
// - the passes of a route with one destination are one parser (the route's operations, then the
//   destination's: a destination's `set` wins); with several weighted destinations the destination's
//   parser runs first and the route's after it (the route's `set` wins, its `remove` applies to what the
//   destination added), as Envoy's weighted cluster entry does;
// - the authority is rewritten after the header passes, the path after that (RouteEntryImplBase::
//   finalizeRequestHeaders); a redirect is built from the request as the caller sent it
//   (Http::Utility::newUri), with Istio's port rules (ApplyRedirect).

/** One addition of a pass: `append` adds another value (Istio's `add`), otherwise the value replaces all (`set`). */
export interface HeaderOperation {
  readonly name: string;
  readonly value: string;
  readonly append: boolean;
}

/** One of Envoy's header parsers: removals, then additions in order. Names are lower case. */
export interface HeaderPass {
  readonly remove: readonly string[];
  readonly add: readonly HeaderOperation[];
}

/** rewrite.uri (replaces the matched prefix) or rewrite.uriRegexRewrite (every match in the path, query kept). */
export type PathRewrite =
  | { readonly kind: 'prefix'; readonly value: string }
  | { readonly kind: 'regex'; readonly pattern: RegExp; readonly parts: readonly (string | number)[] };

export interface RedirectAnswer {
  readonly kind: 'redirect';
  readonly status: number;
  /** Absent: the request's scheme (http for a mesh service). */
  readonly scheme: 'http' | 'https' | undefined;
  /** Absent: the request's Host. */
  readonly authority: string | undefined;
  /** A port, or `request` (derivePort FROM_REQUEST_PORT: the request's service port); absent: none written. */
  readonly port: number | 'request' | undefined;
  /** redirect.uri; absent: the request's path. */
  readonly path: string | undefined;
}

export interface DirectAnswer {
  readonly kind: 'direct';
  readonly status: number;
  readonly body: Uint8Array;
}

export type LocalAnswer = RedirectAnswer | DirectAnswer;

/** What the route does to a request routed to one destination (or answered locally). */
export interface RouteActions {
  /** Header passes on the request sent upstream, in Envoy's order. */
  readonly requestHeaders: readonly HeaderPass[];
  /** Header passes on the response the caller sees (an upstream answer or a local one). */
  readonly responseHeaders: readonly HeaderPass[];
  /** rewrite.authority, else a host (or :authority) set or added by the route's headers, else by the destination's. */
  readonly authority: string | undefined;
  readonly rewrite: PathRewrite | undefined;
  /** redirect or directResponse: the calling workload answers, nothing is sent. */
  readonly answer: LocalAnswer | undefined;
}

export type HeaderRecord = Record<string, string | string[] | undefined>;

/** Runs the passes on a header record (request or response), in place. */
export function applyHeaderPasses(headers: HeaderRecord, passes: readonly HeaderPass[]): void {
  for (let p = 0; p < passes.length; p++) {
    const pass = passes[p]!;
    for (let i = 0; i < pass.remove.length; i++) delete headers[pass.remove[i]!];
    for (let i = 0; i < pass.add.length; i++) {
      const { name, value, append } = pass.add[i]!;
      // Own properties only: a header named like an Object.prototype member is a header like any other.
      const prev = append && Object.hasOwn(headers, name) ? headers[name] : undefined;
      headers[name] = prev === undefined ? value : typeof prev === 'string' ? [prev, value] : [...prev, value];
    }
  }
}

/**
 * The path (with its query) after a rewrite. `matchedLength` is how much of the path the matching block
 * matched (compiled per block: a prefix's length, an exact path's, 1 for a block or route without a uri
 * match, as Istio gives those Envoy's prefix `/`); negative for a regex match, whose rewrite replaces the
 * whole path.
 */
export function rewritePath(path: string, pathname: string, matchedLength: number, rewrite: PathRewrite): string {
  const query = path.slice(pathname.length);
  if (rewrite.kind === 'prefix') return matchedLength < 0 ? rewrite.value + query : rewrite.value + path.slice(matchedLength);
  const parts = rewrite.parts;
  return pathname.replace(rewrite.pattern, (...args: unknown[]) => {
    let out = '';
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      out += typeof part === 'string' ? part : ((args[part] as string | undefined) ?? '');
    }
    return out;
  }) + query;
}

/**
 * The Location of a redirect (Envoy's Http::Utility::newUri): `hostHeader` is the Host the caller sent,
 * `servicePort` the port of its URL, `path` its path and query. Istio writes no `:80` for http and no
 * `:443` for https when the rule sets a port; Envoy drops the request's `:80` when the scheme changes.
 */
export function redirectLocation(a: RedirectAnswer, hostHeader: string, servicePort: number | undefined, path: string): string {
  const scheme = a.scheme ?? 'http';
  let port = a.port === 'request' ? (servicePort ?? 80) : a.port;
  if ((port === 80 && scheme === 'http') || (port === 443 && scheme === 'https')) port = undefined;
  const portText = port === undefined ? '' : `:${port}`;
  const host = a.authority ?? requestHost(hostHeader, scheme, portText);
  let finalPath: string;
  if (a.path === undefined) finalPath = path;
  else if (a.path.includes('?')) finalPath = a.path;
  else {
    const q = path.indexOf('?');
    finalPath = q < 0 ? a.path : a.path + path.slice(q);
  }
  if (!finalPath.startsWith('/')) finalPath = `/${finalPath}`;
  return `${scheme}://${host}${portText}${finalPath}`;
}

/** Envoy's processRequestHost: the request's Host without its port when a port is written or the scheme leaves http's :80. */
function requestHost(host: string, newScheme: string, newPort: string): string {
  let end: number;
  if (host.startsWith('[')) {
    const close = host.lastIndexOf(']:');
    end = close < 0 ? -1 : close + 1;
  } else end = host.lastIndexOf(':');
  if (end < 0) return host;
  // A mesh call is http (the mesh adds mTLS underneath), as Envoy's x-forwarded-proto says of it.
  const remove = newPort !== '' || (newScheme !== 'http' && host.slice(end) === ':80');
  return remove ? host.slice(0, end) : host;
}
