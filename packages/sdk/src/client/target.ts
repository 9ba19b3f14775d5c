// Parses the URLs callers pass to mesh.fetch / mesh.request into a Target. The authority part (host
// and port) repeats across requests, so its resolution (FQDN, passthrough) is cached per mesh; the
// per-request work is a few indexOf/slice calls and one small object, never `new URL()`.
import { isIP } from 'node:net';
import { toFqdn } from '@weft/api';
import { invalidArgument } from '../errors.js';

/** What a URL names, resolved against the caller's namespace. */
export interface Authority {
  /** As the caller wrote it (host[:port]); sent upstream as the Host header. */
  readonly authority: string;
  /** Lower-case host without port (IPv6 without brackets). */
  readonly host: string;
  /** Mesh FQDN, e.g. ratings.bookinfo.svc.cluster.local; for passthrough targets the host. */
  readonly fqdn: string;
  /** The port written in the URL (the *service port*), or undefined when the URL names none. */
  readonly servicePort: number | undefined;
  /** IP literals and localhost are not mesh hosts: they go straight to that address. */
  readonly passthrough: boolean;
}

export interface Target extends Authority {
  readonly scheme: 'http';
  /** Path and query as sent upstream, e.g. `/ratings/0?x=1` (never empty; no fragment). */
  readonly path: string;
  /** Path without the query: what VirtualService `uri` matches look at. */
  readonly pathname: string;
}

const MAX_CACHED_AUTHORITIES = 1024;

export class TargetParser {
  private readonly authorities = new Map<string, Authority>();

  constructor(private readonly namespace: string) {}

  /** Parses an absolute http URL given as a string or a WHATWG URL. */
  parse(input: string | URL): Target {
    if (typeof input !== 'string') {
      if (input instanceof URL) return this.parseUrlObject(input);
      throw invalidArgument(`a URL must be a string or a URL object, got ${input === null ? 'null' : typeof input}`);
    }
    // The scheme is case-insensitive; the common lower-case spelling is checked without allocating.
    if (!input.startsWith('http://') && input.slice(0, 7).toLowerCase() !== 'http://') throw badScheme(input);
    let end = input.length;
    for (let i = 7; i < input.length; i++) {
      const c = input.charCodeAt(i);
      if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) {
        end = i;
        break;
      }
    }
    const authority = input.slice(7, end);
    const auth = this.authority(authority, input);
    let path = end === input.length ? '/' : input.slice(end);
    const hash = path.indexOf('#');
    if (hash >= 0) path = path.slice(0, hash);
    if (path.length === 0 || path.charCodeAt(0) === 63 /* ? */) path = '/' + path;
    const q = path.indexOf('?');
    return targetOf(auth, path, q < 0 ? path : path.slice(0, q));
  }

  private parseUrlObject(url: URL): Target {
    if (url.protocol !== 'http:') throw badScheme(url.href);
    const auth = this.authority(url.host, url.href);
    const pathname = url.pathname || '/';
    return targetOf(auth, pathname + url.search, pathname);
  }

  private authority(authority: string, url: string): Authority {
    const cached = this.authorities.get(authority);
    if (cached) return cached;
    const parsed = parseAuthority(authority, url, this.namespace);
    // A crude bound: callers name few distinct authorities; a flood of distinct ones just restarts the cache.
    if (this.authorities.size >= MAX_CACHED_AUTHORITIES) this.authorities.clear();
    this.authorities.set(authority, parsed);
    return parsed;
  }
}

function badScheme(url: string): Error {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1];
  return invalidArgument(
    scheme
      ? `unsupported URL scheme "${scheme}:" in ${JSON.stringify(url)}; the mesh speaks http:// (mTLS is added by the mesh, not by the URL)`
      : `not an absolute http URL: ${JSON.stringify(url)}; write http://<service>[.<namespace>][:port]/path`,
  );
}

const HOST_LABELS = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

export function parseAuthority(authority: string, url: string, namespace: string): Authority {
  if (authority.length === 0) throw invalidArgument(`URL has no host: ${JSON.stringify(url)}`);
  if (authority.includes('@')) throw invalidArgument(`user info in URLs is not supported: ${JSON.stringify(url)}`);
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) throw invalidArgument(`unterminated IPv6 address in ${JSON.stringify(url)}`);
    host = authority.slice(1, close);
    const rest = authority.slice(close + 1);
    if (rest.length > 0) {
      if (!rest.startsWith(':')) throw invalidArgument(`bad authority ${JSON.stringify(authority)} in ${JSON.stringify(url)}`);
      portText = rest.slice(1);
    }
    if (isIP(host) !== 6) throw invalidArgument(`bad IPv6 address ${JSON.stringify(host)} in ${JSON.stringify(url)}`);
  } else {
    const colon = authority.lastIndexOf(':');
    host = colon < 0 ? authority : authority.slice(0, colon);
    portText = colon < 0 ? undefined : authority.slice(colon + 1);
  }
  host = host.toLowerCase();
  let servicePort: number | undefined;
  if (portText !== undefined && portText !== '') {
    const n = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(n >= 1 && n <= 65535)) throw invalidArgument(`bad port ${JSON.stringify(portText)} in ${JSON.stringify(url)}`);
    servicePort = n;
  }
  const passthrough = isIP(host) !== 0 || host === 'localhost' || host.endsWith('.localhost');
  if (!passthrough && !HOST_LABELS.test(host)) {
    throw invalidArgument(`bad host ${JSON.stringify(host)} in ${JSON.stringify(url)}`);
  }
  return { authority, host, fqdn: passthrough ? host : toFqdn(host, namespace), servicePort, passthrough };
}

function targetOf(auth: Authority, path: string, pathname: string): Target {
  return {
    scheme: 'http',
    authority: auth.authority,
    host: auth.host,
    fqdn: auth.fqdn,
    servicePort: auth.servicePort,
    passthrough: auth.passthrough,
    path,
    pathname,
  };
}
