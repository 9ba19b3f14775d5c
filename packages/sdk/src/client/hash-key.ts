// The hash key of a request for consistent-hash balancing (DestinationRule consistentHash): a header,
// a cookie, a query parameter, or the caller's own address, as Envoy's hash policies take them.
// - httpHeaderName: the header's value (several values joined with ','); no header, no key.
// - httpCookie: the cookie's value; when the request has none and the rule gives a ttl, a value is
//   made up here and handed back as a Set-Cookie for the response (Envoy sets it on the response to its
//   downstream; in Weft the caller is the downstream, so it can relay it to its own client), and the
//   request is balanced by that value, so the next request carrying it lands on the same endpoint.
// - httpQueryParameterName: the first value of the parameter, percent-decoded.
// - useSourceIp: this workload's own address, the address a sidecar would see as the source: every
//   request of one workload goes to one endpoint, as with Istio.
// A request without a key gets no hash, and the balancer picks at random (Envoy does the same).
// Generic over the request's headers and path: the gRPC edge can use it as it is (metadata are headers).
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { hashString } from '../balancer/hash.js';
import type { HashKeySource } from '../config/traffic-policy.js';
import type { OutboundRequest } from './pipeline.js';

export interface RequestHash {
  hash: number | undefined;
  /** A Set-Cookie value to add to the response (a cookie key made up for a request that had none). */
  setCookie: string | undefined;
}

const NO_HASH: RequestHash = Object.freeze({ hash: undefined, setCookie: undefined });

export function requestHash(key: HashKeySource, req: OutboundRequest): RequestHash {
  switch (key.kind) {
    case 'header': {
      const v = req.headers[key.name];
      if (v === undefined) return NO_HASH;
      return { hash: hashString(typeof v === 'string' ? v : v.join(',')), setCookie: undefined };
    }
    case 'query': {
      const v = queryParameter(req.target.path, key.name);
      return v === undefined ? NO_HASH : { hash: hashString(v), setCookie: undefined };
    }
    case 'sourceIp':
      return { hash: hashString(sourceAddress()), setCookie: undefined };
    case 'cookie': {
      const v = cookieValue(req.headers.cookie, key.name);
      if (v !== undefined) return { hash: hashString(v), setCookie: undefined };
      if (key.ttlMs === undefined) return NO_HASH;
      const made = randomBytes(8).toString('hex');
      let cookie = `${key.name}="${made}"`;
      if (key.ttlMs > 0) cookie += `; Max-Age=${Math.floor(key.ttlMs / 1000)}`;
      if (key.path !== undefined) cookie += `; Path=${key.path}`;
      cookie += `${key.attributes}; HttpOnly`;
      return { hash: hashString(made), setCookie: cookie };
    }
  }
}

/** The value of cookie `name` in Cookie header(s), quotes removed; undefined when absent. */
export function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const text = typeof header === 'string' ? header : header.join('; ');
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const v = part.slice(eq + 1).trim();
    return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
  }
  return undefined;
}

/** The first value of query parameter `name` in `path`, percent-decoded ('+' is a space); undefined when absent. */
export function queryParameter(path: string, name: string): string | undefined {
  const q = path.indexOf('?');
  if (q < 0) return undefined;
  for (const pair of path.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    const k = decode(eq < 0 ? pair : pair.slice(0, eq));
    if (k === name) return eq < 0 ? '' : decode(pair.slice(eq + 1));
  }
  return undefined;
}

function decode(s: string): string {
  const plus = s.includes('+') ? s.replaceAll('+', ' ') : s;
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

let ownAddress: string | undefined;

/** This machine's first external IPv4 address (else IPv6, else loopback): what a server sees as the source. */
export function sourceAddress(): string {
  if (ownAddress !== undefined) return ownAddress;
  const all = Object.values(networkInterfaces()).flatMap((l) => l ?? []).filter((a) => !a.internal);
  ownAddress = all.find((a) => a.family === 'IPv4')?.address ?? all[0]?.address ?? '127.0.0.1';
  return ownAddress;
}
