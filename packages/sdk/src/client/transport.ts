// Transport: the terminal Handler. One undici Pool per endpoint origin (per origin and certificate
// generation when the call goes over mTLS: after a renewal, new connections present the new
// certificate while the old pool finishes what it carries; per origin and settings when a
// DestinationRule originates TLS with SIMPLE / MUTUAL, tls-origination.ts), kept alive and reused across
// requests; `pool.request()` (the dispatcher API, not fetch) keeps the per-request cost low. Mesh
// endpoints' pools live while the endpoint is in a view (retain); external origins' pools are a
// separate bounded set (external-pools.ts).
// A cluster's DestinationRule connectionPool shapes its pools (connection-pool-options.ts): at most
// maxConnections per endpoint, maxRequestsPerConnection, idleTimeout as undici's keep-alive timeout, and
// connectTimeout; pools with other settings are other pools (the settings are part of the key), so two
// clusters of one endpoint never share connections made for different limits.
// Connection-level failures become WeftErrors with Envoy's flags (UF: could not connect, including a
// failed TLS handshake or certificate check, or TLS settings whose files cannot be used; UR: reset).
import { Pool } from 'undici';
import { AUTO_MTLS, type ClientTls, type TlsOrigination } from '../config/compiled.js';
import { WeftError } from '../errors.js';
import type { TlsMaterial } from '../identity/tls-material.js';
import { ExternalPools, type PoolConnect } from './external-pools.js';
import { expectedSpiffeId, mtlsConnectOptions, PEER_IDENTITY_ERROR, speaksMtls } from './mtls-connect.js';
import { TLS_SETTINGS_ERROR } from './pem-files.js';
import { TlsOriginator } from './tls-origination.js';
import { poolOptionsOf } from './connection-pool-options.js';
import type { ConnectionPoolLimits } from '../config/traffic-policy.js';
import type { Endpoint } from '../balancer/endpoint.js';
import type { Handler, OutboundRequest, OutboundResponse } from './pipeline.js';

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
const RESET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);
// OpenSSL's certificate verification results as Node reports them (plus ERR_TLS_* / ERR_SSL_* codes).
const CERTIFICATE_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_REVOKED', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH',
  'UNABLE_TO_GET_CRL', 'CRL_HAS_EXPIRED', 'CRL_NOT_YET_VALID', 'CRL_SIGNATURE_FAILURE', 'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
]);

export interface TransportOptions {
  /** Keep-alive connections per origin. */
  connections?: number;
  /** The caller's TLS material; null (or absent) without an identity: every call is plaintext. */
  tls?: () => TlsMaterial | null;
  /**
   * DestinationRule trafficPolicy.tls for the request (mtls-connect.ts clientTlsOf); absent: auto-mTLS.
   * DISABLE sends plaintext even where mTLS is possible; SIMPLE / MUTUAL originate TLS with the rule's files.
   */
  clientTls?: (req: OutboundRequest) => ClientTls;
  /** A server that failed the identity check (logged: it is an impersonation or a misregistration). */
  identityRefused?: (e: Error) => void;
  /** TLS settings that cannot be used (a missing or bad file): reported once, until the problem changes. */
  tlsSettingsProblem?: (e: Error) => void;
}

interface MeshPool {
  /** The endpoint's origin (`http://address:port`), what retain() is told about. */
  origin: string;
  pool: Pool;
  /** How it connects: an mTLS pool gives way to the next certificate generation, an originating one to new settings of the same rule. */
  kind: 'plain' | 'mtls' | 'originate';
  /** For originating pools: where the settings are written (`DestinationRule shop/ext: spec.trafficPolicy.tls`). */
  source?: string;
  /** The connectionPool settings it was made with ('' for the defaults). */
  poolKey: string;
}

/** The pool key and connector of one endpoint with one origination setting, made once rather than per request. */
interface OriginationConnect extends PoolConnect {
  readonly origination: TlsOrigination;
  /** The host as the caller named it: the default SNI and the name checked. */
  readonly host: string;
}

export class Transport {
  /** Keyed by origin (plaintext) or `origin generation expected-identity` (mTLS). */
  private readonly pools = new Map<string, MeshPool>();
  private readonly external: ExternalPools;
  private closed = false;
  /** The mTLS pool key of an endpoint, built once per certificate generation rather than per request. */
  private readonly mtlsKeys = new WeakMap<Endpoint, { generation: TlsMaterial['generation']; key: string }>();
  private readonly originations = new WeakMap<Endpoint, OriginationConnect>();
  private readonly originator: TlsOriginator;

  constructor(private readonly options: TransportOptions = {}) {
    this.external = new ExternalPools(undefined, options.connections ?? null);
    this.originator = new TlsOriginator({ problem: (e) => options.tlsSettingsProblem?.(e) });
  }

  readonly handler: Handler = async (req) => {
    const endpoint = req.endpoint!;
    const tls = this.options.clientTls?.(req) ?? AUTO_MTLS;
    const origination = tls.origination;
    const limits = req.cluster?.policy.connectionPool;
    const poolKey = limits?.poolKey ?? '';
    let pool: Pool;
    if (req.external) {
      if (this.closed) throw new WeftError('MESH_CLOSED', 'the mesh is closed');
      // One pool for http: and https: URLs alike: the settings make the TLS, never twice.
      pool = origination ? this.external.get(httpsOrigin(endpoint.origin), this.originationConnect(endpoint, origination, req.target.host)) : this.external.get(endpoint.origin);
    } else if (origination) {
      const connect = this.originationConnect(endpoint, origination, req.target.host);
      const key = poolKey === '' ? connect.key : `${connect.key} ${poolKey}`;
      pool = this.pools.get(key)?.pool ?? this.openOriginating(key, connect, endpoint, limits);
    } else {
      const material = this.options.tls?.() ?? null;
      const mtls = speaksMtls(endpoint, material) && tls.mode !== 'DISABLE';
      // The identity to check is part of the key: a port taken over by another registration gets a new pool.
      const base = mtls ? this.mtlsKey(endpoint, material) : endpoint.origin;
      const key = poolKey === '' ? base : `${base} ${poolKey}`;
      pool = this.pools.get(key)?.pool ?? this.open(key, endpoint, mtls ? material : null, limits);
    }
    req.record.attempts++;
    try {
      return (await pool.request({
        path: req.target.path,
        method: req.method as 'GET',
        headers: req.headers,
        body: req.body,
        signal: req.signal,
        // maxRequestsPerConnection 1: no connection carries a second request (connection-pool-options.ts).
        reset: limits !== undefined && limits.maxRequestsPerConnection === 1,
      })) as unknown as OutboundResponse;
    } catch (e) {
      const mapped = mapError(e, req, origination);
      if (isIdentityRefusal(e)) this.options.identityRefused?.(mapped as Error);
      throw mapped;
    }
  };

  /** Closes the pools of origins that left every view (in-flight requests finish first). */
  retain(liveOrigins: ReadonlySet<string>): void {
    for (const [key, { origin, pool }] of this.pools) {
      if (!liveOrigins.has(origin)) {
        this.pools.delete(key);
        pool.close().catch(() => undefined);
      }
    }
  }

  /** Graceful close: waits up to `graceMs` for in-flight requests, then destroys what is left. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    const pools = [...[...this.pools.values()].map((p) => p.pool), ...this.external.takeAll()];
    this.pools.clear();
    await Promise.all(
      pools.map(async (pool) => {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)));
        const done = await Promise.race([pool.close().then(() => false, () => false), timedOut]);
        clearTimeout(timer);
        if (done) await pool.destroy().catch(() => undefined);
      }),
    );
  }

  private mtlsKey(endpoint: Endpoint, material: TlsMaterial): string {
    const cached = this.mtlsKeys.get(endpoint);
    if (cached?.generation === material.generation) return cached.key;
    const key = `${endpoint.origin} ${material.generation} ${expectedSpiffeId(endpoint, material.trustDomain)}`;
    this.mtlsKeys.set(endpoint, { generation: material.generation, key });
    return key;
  }

  private originationConnect(endpoint: Endpoint, origination: TlsOrigination, host: string): OriginationConnect {
    const cached = this.originations.get(endpoint);
    if (cached?.origination === origination && cached.host === host) return cached;
    const connect: OriginationConnect = {
      key: `${httpsOrigin(endpoint.origin)} ${host} ${origination.key}`,
      origination,
      host,
      connector: () => this.originator.connector(origination, host),
    };
    this.originations.set(endpoint, connect);
    return connect;
  }

  private open(key: string, endpoint: Endpoint, material: TlsMaterial | null, limits: ConnectionPoolLimits | undefined): Pool {
    if (this.closed) throw new WeftError('MESH_CLOSED', 'the mesh is closed');
    const origin = endpoint.origin;
    const poolKey = limits?.poolKey ?? '';
    const { connectTimeout, ...base } = poolOptionsOf(this.options.connections, limits);
    const pool = material
      ? new Pool(httpsOrigin(origin), { ...base, connect: { ...mtlsConnectOptions(endpoint, material), ...(connectTimeout === undefined ? {} : { timeout: connectTimeout }) } })
      : new Pool(origin, { ...base, ...(connectTimeout === undefined ? {} : { connectTimeout }) });
    // The pools of older certificates (or of a former registration) take no new request: they close once what they carry is done.
    if (material) this.closeOthers(origin, (p) => p.kind === 'mtls' && p.poolKey === poolKey);
    this.pools.set(key, { origin, pool, kind: material ? 'mtls' : 'plain', poolKey });
    return pool;
  }

  private openOriginating(key: string, connect: OriginationConnect, endpoint: Endpoint, limits: ConnectionPoolLimits | undefined): Pool {
    if (this.closed) throw new WeftError('MESH_CLOSED', 'the mesh is closed');
    const origin = endpoint.origin;
    const source = connect.origination.source;
    const poolKey = limits?.poolKey ?? '';
    // The connector is tls-origination.ts's own (it makes the TLS): undici applies no connectTimeout to a connector function.
    const { connectTimeout: _notApplied, ...base } = poolOptionsOf(this.options.connections, limits);
    const pool = new Pool(httpsOrigin(origin), { ...base, connect: connect.connector() });
    // The same rule's former settings for this endpoint take no new request.
    this.closeOthers(origin, (p) => p.kind === 'originate' && p.source === source && p.poolKey === poolKey);
    this.pools.set(key, { origin, pool, kind: 'originate', source, poolKey });
    return pool;
  }

  private closeOthers(origin: string, which: (p: MeshPool) => boolean): void {
    for (const [k, p] of this.pools) {
      if (p.origin === origin && which(p)) {
        this.pools.delete(k);
        p.pool.close().catch(() => undefined);
      }
    }
  }
}

/** `https://host:port` for `http://host:port` (an https origin stays as it is). */
function httpsOrigin(origin: string): string {
  return origin.startsWith('https:') ? origin : `https${origin.slice('http'.length)}`;
}

function isIdentityRefusal(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === PEER_IDENTITY_ERROR;
}

function mapError(e: unknown, req: OutboundRequest, origination: TlsOrigination | undefined): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return e; // DOMException's code is a number
  const where = origination
    ? `${req.route?.host ?? req.target.host} at ${httpsOrigin(req.endpoint!.origin)} (TLS by ${origination.source}, mode ${origination.mode})`
    : `${req.route?.host ?? req.target.host} at ${req.endpoint!.origin}`;
  if (code === TLS_SETTINGS_ERROR) {
    return new WeftError('UPSTREAM_CONNECT_FAILURE', `upstream connect error for ${where}: ${(e as Error).message}`, { cause: e });
  }
  if (code === PEER_IDENTITY_ERROR) {
    return new WeftError('UPSTREAM_CONNECT_FAILURE', `upstream connect error for ${where}: mTLS: ${(e as Error).message}`, { cause: e });
  }
  if (CONNECT_ERRORS.has(code)) {
    return new WeftError('UPSTREAM_CONNECT_FAILURE', `upstream connect error for ${where}: ${code}`, { cause: e });
  }
  if (CERTIFICATE_ERRORS.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) {
    return new WeftError('UPSTREAM_CONNECT_FAILURE', `upstream connect error for ${where}: TLS: ${(e as Error).message} (${code})`, { cause: e });
  }
  if (RESET_ERRORS.has(code)) {
    return new WeftError('UPSTREAM_RESET', `upstream reset for ${where}: ${(e as Error).message}`, { cause: e });
  }
  // undici's check of a header name or value, a method, a body type.
  if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') {
    return new WeftError('INVALID_ARGUMENT', `${(e as Error).message} (request to ${req.target.authority})`, { cause: e });
  }
  return e; // aborts (the caller's signal) pass through as undici raised them
}
