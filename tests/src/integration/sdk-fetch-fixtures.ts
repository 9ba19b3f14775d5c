// Helpers for the mesh.fetch tests: an echo handler, plain and TLS servers outside the mesh on
// 127.0.0.1 port 0, a test CA, and local name resolution for `*.test` names (RFC 2606 reserves the
// TLD) so that calls leaving the mesh go through DNS lookup without a network.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createMesh, type Mesh, type MeshOptions } from '@weft/sdk';
import { caFileOf, createToken } from '../support/weftd.js';
import { NS } from './sdk-fixtures.js';

// A CA and a server certificate for secure.example.test, localhost and 127.0.0.1, valid 2000–2100,
// made for these tests only (openssl, P-256). Nothing trusts the CA unless a test says so.
export const TEST_CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBkDCCATagAwIBAgICEAAwCgYIKoZIzj0EAwIwLjEsMCoGA1UEAwwjV2VmdCB0
ZXN0IENBIChzZGstZmV0Y2ggdGVzdHMgb25seSkwIBcNMDAwMTAxMDAwMDAwWhgP
MjEwMDAxMDEwMDAwMDBaMC4xLDAqBgNVBAMMI1dlZnQgdGVzdCBDQSAoc2RrLWZl
dGNoIHRlc3RzIG9ubHkpMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOYyh+OXL
wIxBhaoJcu0d06MRvPed573y85F9PgdBWfuT6dqRqEKfM5tULrd6/B7j1SfaxwHt
UCkLsiKOkYwfDKNCMEAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYw
HQYDVR0OBBYEFAwyJ0ErGN08ybWhC3Gjn0SxbZNMMAoGCCqGSM49BAMCA0gAMEUC
IH5Pmb04eO32ieqHFGGUqDPlITEInZM8qmnctyDNlqHrAiEA4JWwHB70h2DSfW+J
SzGFuA9VT9PkE3J2KFwuI/7P7nw=
-----END CERTIFICATE-----
`;
const SERVER_CERT_PEM = `-----BEGIN CERTIFICATE-----
MIIB4zCCAYmgAwIBAgICEAEwCgYIKoZIzj0EAwIwLjEsMCoGA1UEAwwjV2VmdCB0
ZXN0IENBIChzZGstZmV0Y2ggdGVzdHMgb25seSkwIBcNMDAwMTAxMDAwMDAwWhgP
MjEwMDAxMDEwMDAwMDBaMB4xHDAaBgNVBAMME3NlY3VyZS5leGFtcGxlLnRlc3Qw
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAS91uHVI+CZxLFrqGh92wlD2euUhKaC
nRdwnlkJNk6IqugNFugXV5d/0AshW8M+/xKzE4JrtyLTY/jtdjoqNC8/o4GkMIGh
MAkGA1UdEwQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUFBwMB
MC8GA1UdEQQoMCaCE3NlY3VyZS5leGFtcGxlLnRlc3SCCWxvY2FsaG9zdIcEfwAA
ATAfBgNVHSMEGDAWgBQMMidBKxjdPMm1oQtxo59EsW2TTDAdBgNVHQ4EFgQUJYHd
HlTrcAVPzogbAy8ZozNmF8AwCgYIKoZIzj0EAwIDSAAwRQIgWa3HQvokNiMeFccN
ZHaCzjdhGb0H04BEI5YP7z00u14CIQC9u0RUEjsctzWFVa5HJ7NHU6ZSVEL59Gu3
MDq0yZxJxA==
-----END CERTIFICATE-----
`;
const SERVER_KEY_PEM = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgaBA3Z18tFaz+6Ik1
FuOMEV3kz5tvC6v+F0jJzyj7QeChRANCAAS91uHVI+CZxLFrqGh92wlD2euUhKaC
nRdwnlkJNk6IqugNFugXV5d/0AshW8M+/xKzE4JrtyLTY/jtdjoqNC8/
-----END PRIVATE KEY-----
`;

/** What the echo handler answers: how the request arrived. */
export interface Echo {
  name: string;
  method: string;
  url: string;
  host: string | null;
  contentType: string | null;
  authorization: string | null;
  cookie: string | null;
  body: string;
}

/** A request listener that answers JSON describing the request it got. */
export function echoHandler(name: string): http.RequestListener {
  return (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const echo: Echo = {
        name,
        method: req.method ?? '',
        url: req.url ?? '',
        host: req.headers.host ?? null,
        contentType: req.headers['content-type'] ?? null,
        authorization: req.headers.authorization ?? null,
        cookie: req.headers.cookie ?? null,
        body,
      };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(echo));
    });
  };
}

export interface OutsideServer {
  port: number;
  close(): Promise<void>;
}

/** A server outside the mesh (not registered with weftd), plain http or TLS with the test CA's certificate. */
export async function startOutsideServer(name: string, tls = false): Promise<OutsideServer> {
  const server = tls ? https.createServer({ cert: SERVER_CERT_PEM, key: SERVER_KEY_PEM }, echoHandler(name)) : http.createServer(echoHandler(name));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Source for scripts (startScript) that need the same local resolution of `*.test` names. */
export const RESOLVE_TEST_NAMES_SOURCE = `
import dns from 'node:dns';
const lookup = dns.lookup;
dns.lookup = (host, options, callback) => {
  if (typeof options === 'function') { callback = options; options = {}; }
  if (typeof options === 'number') options = { family: options };
  if (!/\\.test$/.test(host)) return lookup(host, options, callback);
  return options.all ? process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }]) : process.nextTick(callback, null, '127.0.0.1', 4);
};
`;

/**
 * Makes dns.lookup (what net.connect, and so undici, resolves names with) answer 127.0.0.1 for
 * `*.test` names in this process; other names resolve as before. Returns the undo.
 */
export function resolveTestNamesLocally(): () => void {
  const lookup = dns.lookup;
  const local = ((host: string, options: unknown, callback?: unknown) => {
    let opts = options as dns.LookupOptions | number | undefined;
    let cb = callback as (...args: unknown[]) => void;
    if (typeof opts === 'function') {
      cb = opts as unknown as (...args: unknown[]) => void;
      opts = {};
    }
    if (typeof opts === 'number') opts = { family: opts };
    if (!host.endsWith('.test')) return (lookup as (...a: unknown[]) => void)(host, opts ?? {}, cb);
    if (opts?.all) process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
    else process.nextTick(cb, null, '127.0.0.1', 4);
  }) as typeof dns.lookup;
  dns.lookup = local;
  return () => {
    if (dns.lookup === local) dns.lookup = lookup;
  };
}

/**
 * A mesh in the test namespace with the given options. Without `extra.token` it trusts weftd by its
 * ca.pem and has no identity: it can call others, not serve (servingMesh).
 */
export function clientMesh(controlPlane: string, extra: Partial<MeshOptions> = {}): Promise<Mesh> {
  const trust = extra.token ? {} : { caFile: caFileOf(controlPlane) };
  return createMesh({ service: 'web', namespace: NS, controlPlane, initialTimeoutMs: 5000, drainTimeoutMs: 1000, shutdownSignals: [], ...trust, ...extra });
}

/** A mesh that may serve: clientMesh with a join token for its service account (extra.serviceAccount, default `default`). */
export async function servingMesh(controlPlane: string, extra: Partial<MeshOptions> = {}): Promise<Mesh> {
  return clientMesh(controlPlane, { token: await createToken(controlPlane, extra.namespace ?? NS, extra.serviceAccount ?? 'default'), ...extra });
}

/** The rejection of a promise that must reject. */
export async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}
