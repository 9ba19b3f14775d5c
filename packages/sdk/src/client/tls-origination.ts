// TLS that the caller originates with the user's settings: DestinationRule tls.mode SIMPLE (check the
// server) and MUTUAL (also present a client certificate), Istio's TLS origination. The app may call
// `http://api.example.com:443/` in plaintext; the connection is TLS all the same (and an `https:` URL
// gets these settings instead of undici's defaults, never TLS twice).
//
// Istio's semantics, field by field: caCertificates absent = the platform's trust store (Node's, with
// NODE_EXTRA_CA_CERTS); sni absent = the host the caller named; subjectAltNames set = the server
// certificate must carry one of them, else it is checked against the name connected to (sni, else the
// host) as any TLS client does; insecureSkipVerify = no check at all; caCrl = revocation checked for the
// server's chain (OpenSSL's CRL_CHECK_ALL, as Envoy by default).
//
// A pool gets one connector; each new connection asks the files for their current state (a stat each)
// and builds a new SecureContext only when one changed, so rotated files are used by the next
// connection while open ones carry on.
import type { PeerCertificate, SecureContext } from 'node:tls';
import tls from 'node:tls';
import { buildConnector } from 'undici';
import type { TlsOrigination } from '../config/compiled.js';
import { PemFiles, tlsSettingsError, type PemKind } from './pem-files.js';

/** The `code` of a server certificate that carries none of the subjectAltNames asked for. */
export const SAN_MISMATCH_ERROR = 'ERR_TLS_CERT_ALTNAME_INVALID';

interface BuiltContext {
  /** The versions of the files it was built from. */
  readonly stamp: string;
  readonly secureContext: SecureContext;
}

type FileField = 'clientCertificate' | 'privateKey' | 'caCertificates' | 'caCrl';
const FILE_FIELDS: ReadonlyArray<readonly [FileField, PemKind]> = [
  ['clientCertificate', 'certificate'],
  ['privateKey', 'key'],
  ['caCertificates', 'certificate'],
  ['caCrl', 'crl'],
];

export interface TlsOriginatorOptions {
  /** A problem with the settings (a file above all): reported once until it changes or goes away. */
  problem?: (e: Error) => void;
}

/** Makes connectors for SIMPLE / MUTUAL pools; shares the file cache and each setting's context. */
export class TlsOriginator {
  private readonly files = new PemFiles();
  private readonly contexts = new WeakMap<TlsOrigination, BuiltContext>();
  private readonly lastProblem = new WeakMap<TlsOrigination, string>();

  constructor(private readonly options: TlsOriginatorOptions = {}) {}

  /**
   * An undici connector that opens TLS to `host` (as the caller named it: the default SNI and the name
   * checked) with the settings of `o`.
   */
  connector(o: TlsOrigination, host: string): buildConnector.connector {
    const servername = o.sni ?? (isIpAddress(host) ? undefined : host);
    const verifyName = o.sni ?? host;
    let built: { stamp: string; connect: buildConnector.connector } | undefined;
    return (opts, callback) => {
      this.context(o).then(
        (ctx) => {
          if (built?.stamp !== ctx.stamp) built = { stamp: ctx.stamp, connect: buildConnector(connectOptions(o, ctx.secureContext, servername, verifyName)) };
          // undici names the server after the Host header; the settings decide it here.
          built.connect({ ...opts, servername: servername ?? '' }, callback);
        },
        (e: Error) => callback(e, null),
      );
    };
  }

  /** The SecureContext of `o` for the files as they are now; built again when one changed. */
  private async context(o: TlsOrigination): Promise<BuiltContext> {
    try {
      const pems: Partial<Record<FileField, string>> = {};
      const versions: string[] = [];
      await Promise.all(
        FILE_FIELDS.map(async ([field, kind]) => {
          const path = o[field];
          if (path === undefined) return;
          const file = await this.files.read(path, kind, `${o.source}.${field}`);
          pems[field] = file.pem;
          versions.push(`${field}=${file.version}`);
        }),
      );
      const stamp = versions.sort().join(' ');
      const cached = this.contexts.get(o);
      if (cached?.stamp === stamp) return cached;
      const built = { stamp, secureContext: secureContextOf(o, pems) };
      this.contexts.set(o, built);
      this.lastProblem.delete(o);
      return built;
    } catch (e) {
      const message = (e as Error).message;
      if (this.lastProblem.get(o) !== message) {
        this.lastProblem.set(o, message);
        this.options.problem?.(e as Error);
      }
      throw e;
    }
  }
}

function secureContextOf(o: TlsOrigination, pems: Partial<Record<FileField, string>>): SecureContext {
  try {
    return tls.createSecureContext({
      minVersion: 'TLSv1.2',
      ...(pems.clientCertificate !== undefined ? { cert: pems.clientCertificate, key: pems.privateKey } : {}),
      ...(pems.caCertificates !== undefined ? { ca: pems.caCertificates } : {}),
      ...(pems.caCrl !== undefined ? { crl: pems.caCrl } : {}),
    });
  } catch (e) {
    const message = (e as Error).message;
    const files = FILE_FIELDS.filter(([f]) => o[f] !== undefined).map(([f]) => `${f} ${o[f]}`).join(', ');
    if (/key values mismatch/i.test(message)) {
      throw tlsSettingsError(`${o.source}: the privateKey ${o.privateKey} is not the key of the clientCertificate ${o.clientCertificate} (OpenSSL: ${message})`, e);
    }
    throw tlsSettingsError(`${o.source}: the files do not make a TLS context (${files}): ${message}`, e);
  }
}

function connectOptions(o: TlsOrigination, secureContext: SecureContext, servername: string | undefined, verifyName: string): buildConnector.BuildOptions {
  if (o.insecureSkipVerify) {
    return { secureContext, servername, rejectUnauthorized: false, checkServerIdentity: () => undefined } as buildConnector.BuildOptions;
  }
  const checkServerIdentity =
    o.subjectAltNames.length > 0
      ? (_host: string, cert: PeerCertificate) => subjectAltNameProblem(cert, o.subjectAltNames, o.source)
      : (_host: string, cert: PeerCertificate) => tls.checkServerIdentity(verifyName, cert);
  return { secureContext, servername, rejectUnauthorized: true, checkServerIdentity } as buildConnector.BuildOptions;
}

/**
 * Envoy's match_subject_alt_names with exact matchers, as Istio sets them: one of `wanted` must be a DNS,
 * URI or IP entry of the certificate. A DNS entry `*.example.com` covers one label (`a.example.com`).
 */
export function subjectAltNameProblem(cert: PeerCertificate, wanted: readonly string[], source: string): Error | undefined {
  const entries = subjectAltNames(cert.subjectaltname ?? '');
  for (const w of wanted) {
    const name = w.toLowerCase();
    for (const [type, value] of entries) {
      if (type === 'DNS' ? dnsMatches(value.toLowerCase(), name) : (type === 'URI' || type === 'IP Address') && value === w) return undefined;
    }
  }
  const has = entries.length > 0 ? entries.map(([t, v]) => `${t}:${v}`).join(', ') : 'none';
  return Object.assign(new Error(`the server certificate carries none of the subjectAltNames ${JSON.stringify(wanted)} of ${source} (its subjectAltNames: ${has})`), {
    code: SAN_MISMATCH_ERROR,
  });
}

/** Node's `subjectaltname` ("DNS:a, URI:b, IP Address:c"; a value with a comma or quote comes JSON-quoted) as [type, value] pairs. */
export function subjectAltNames(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = 0;
  while (i < text.length && out.length < 1000) {
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const type = text.slice(i, colon);
    let value: string;
    let next: number;
    if (text[colon + 1] === '"') {
      let end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(text.slice(colon + 1, end + 1)) as string;
      } catch {
        value = text.slice(colon + 2, end);
      }
      next = text.indexOf(', ', end);
    } else {
      next = text.indexOf(', ', colon);
      value = text.slice(colon + 1, next < 0 ? text.length : next);
    }
    out.push([type, value]);
    if (next < 0) break;
    i = next + 2;
  }
  return out;
}

function dnsMatches(pattern: string, name: string): boolean {
  if (pattern === name) return true;
  if (!pattern.startsWith('*.')) return false;
  const dot = name.indexOf('.');
  return dot > 0 && name.slice(dot) === pattern.slice(1);
}

function isIpAddress(host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.includes(':');
}
