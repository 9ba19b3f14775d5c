// Parses the URLs callers pass to mesh.fetch / mesh.request into a Target. The authority part (host
// and port) repeats across requests, so its resolution (FQDN, kind of host) is cached per mesh; the
// per-request work is a few indexOf/slice calls and one small object, never `new URL()`.
//
// How a host is judged (Istio's rules for names; the egress stage settles the names left open):
//   `ratings`, `*.svc.cluster.local`      mesh: routed and balanced, never DNS
//   IP literals, `localhost`              direct: sent to that address as written
//   other names with dots (`ratings.bookinfo`, `example.com`, `api.github.com`): dns, which the egress
//   stage turns into mesh when weftd's view or the config knows the name, else external (DNS).
import { isIP } from 'node:net';
import { CLUSTER_DOMAIN, toFqdn } from '@weft/api';
import { invalidArgument } from '../errors.js';

export type HostKind = 'mesh' | 'dns' | 'direct';

/** What a URL names, resolved against the caller's namespace. */
export interface Authority {
  /** As the caller wrote it (host[:port]); sent upstream as the Host header. */
  readonly authority: string;
  /** Lower-case host without port (IPv6 without brackets). */
  readonly host: string;
  /**
   * Mesh FQDN, e.g. ratings.bookinfo.svc.cluster.local: for `dns` names what the name would be as a
   * mesh host (`example.com` → example.com.svc.cluster.local); for `direct` targets the host.
   */
  readonly fqdn: string;
  /** The port written in the URL (the *service port*), or undefined when the URL names none. */
  readonly servicePort: number | undefined;
  readonly kind: HostKind;
  /** localhost, 127.0.0.0/8, ::1: never captured by a mesh (Istio's iptables skip loopback). */
  readonly loopback: boolean;
}

export interface Target extends Authority {
  /** https only for hosts outside the mesh: mesh services speak http (the mesh adds mTLS). */
  readonly scheme: 'http' | 'https';
  /** Path and query as sent upstream, e.g. `/ratings/0?x=1` (never empty; no fragment). */
  readonly path: string;
  /** Path without the query: what VirtualService `uri` matches look at. */
  readonly pathname: string;
}

const MAX_CACHED_AUTHORITIES = 1024;

export class TargetParser {
  private readonly authorities = new Map<string, Authority>();

  constructor(private readonly namespace: string) {}

  /** Parses an absolute http(s) URL given as a string or a WHATWG URL. */
  parse(input: string | URL): Target {
    if (typeof input !== 'string') {
      if (input instanceof URL) return this.parseUrlObject(input);
      throw invalidArgument(`a URL must be a string or a URL object, got ${input === null ? 'null' : typeof input}`);
    }
    // The scheme is case-insensitive; the common lower-case spellings are checked without allocating.
    const start = input.startsWith('http://') ? 7 : input.startsWith('https://') ? 8 : schemeLength(input);
    const scheme = start === 8 ? 'https' : 'http';
    let end = input.length;
    for (let i = start; i < input.length; i++) {
      const c = input.charCodeAt(i);
      if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) {
        end = i;
        break;
      }
    }
    const auth = this.authority(input.slice(start, end), input);
    let path = end === input.length ? '/' : input.slice(end);
    const hash = path.indexOf('#');
    if (hash >= 0) path = path.slice(0, hash);
    if (path.length === 0 || path.charCodeAt(0) === 63 /* ? */) path = '/' + path;
    const q = path.indexOf('?');
    return targetOf(scheme, auth, path, q < 0 ? path : path.slice(0, q), input);
  }

  private parseUrlObject(url: URL): Target {
    const scheme = url.protocol === 'http:' ? 'http' : url.protocol === 'https:' ? 'https' : undefined;
    if (scheme === undefined) throw badScheme(url.href);
    const auth = this.authority(url.host, url.href);
    const pathname = url.pathname || '/';
    return targetOf(scheme, auth, pathname + url.search, pathname, url.href);
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

/** 7 for http://, 8 for https:// in any case; throws for anything else. */
function schemeLength(input: string): number {
  const head = input.slice(0, 8).toLowerCase();
  if (head.startsWith('http://')) return 7;
  if (head === 'https://') return 8;
  throw badScheme(input);
}

function badScheme(url: string): Error {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1];
  return invalidArgument(
    scheme
      ? `unsupported URL scheme "${scheme}:" in ${JSON.stringify(url)}; use http:// for mesh services (the mesh adds mTLS) and http:// or https:// for hosts outside the mesh`
      : `not an absolute http URL: ${JSON.stringify(url)}; write http://<service>[.<namespace>][:port]/path`,
  );
}

/** A mesh service named with https://: the app would originate TLS the mesh cannot route. */
export function httpsToMeshHost(url: string, fqdn: string): Error {
  return invalidArgument(
    `${JSON.stringify(url)} names the mesh service ${fqdn} with https://; call mesh services with http:// (the mesh adds mTLS), https:// is for hosts outside the mesh`,
  );
}

const CLUSTER_SUFFIX = '.' + CLUSTER_DOMAIN;

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
  const ip = isIP(host);
  if (ip !== 0 || host === 'localhost' || host.endsWith('.localhost')) {
    const loopback = ip === 0 || (ip === 4 ? host.startsWith('127.') : host === '::1');
    return { authority, host, fqdn: host, servicePort, kind: 'direct', loopback };
  }
  if (!HOST_LABELS.test(host)) throw invalidArgument(`bad host ${JSON.stringify(host)} in ${JSON.stringify(url)}`);
  const kind: HostKind = !host.includes('.') || host.endsWith(CLUSTER_SUFFIX) ? 'mesh' : 'dns';
  return { authority, host, fqdn: toFqdn(host, namespace), servicePort, kind, loopback: false };
}

function targetOf(scheme: 'http' | 'https', auth: Authority, path: string, pathname: string, url: string): Target {
  if (scheme === 'https' && auth.kind === 'mesh') throw httpsToMeshHost(url, auth.fqdn);
  return {
    scheme,
    authority: auth.authority,
    host: auth.host,
    fqdn: auth.fqdn,
    servicePort: auth.servicePort,
    kind: auth.kind,
    loopback: auth.loopback,
    path,
    pathname,
  };
}
