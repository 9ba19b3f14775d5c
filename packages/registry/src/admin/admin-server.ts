// weftd's admin HTTP API (JSON), used by weftctl. See the README of packages/registry for the routes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { isDnsSubdomain, KINDS, lookupKind, quote } from '@weft/api';
import { isConfigWriteError } from '../config/config-errors.js';
import { isStoreWriteRefusedError } from '../store/store-write-refused-error.js';
import type { ConfigService, MissingMode } from '../config/config-service.js';
import { packageVersion } from '../cli/package-version.js';
import { toIstioShape } from '../config/resource-views.js';
import type { EndpointRegistry } from '../registry/endpoint-registry.js';
import type { SessionServer } from '../session/session-server.js';
import { parseBatchBody } from './batch-body.js';
import type { JoinTokenStore } from '../identity/join-token-store.js';
import type { MeshCa } from '../identity/mesh-ca.js';
import { tokenRoutes } from './token-routes.js';
import type { AdminCredentialFile } from './admin-credential.js';
import type { WeftdCertificate } from '../identity/weftd-certificate.js';
import { caRoutes } from './ca-routes.js';
import { HttpError, isClientGoneError, readBody, sendJson, sendText } from './http-utils.js';
import { checkNamespace, parseRequestTarget, readQuery } from './request-target.js';

/**
 * How long a client may take, so that one that sends half a request and stops (or opens connections
 * and sends nothing) cannot hold weftd's sockets and memory: the answer is 408 and the socket closes.
 */
export interface AdminTimeouts {
  /** To send the request line and headers. */
  headersMs: number;
  /** To send the whole request, body included (a 4 MiB body needs at least ~140 KB/s). */
  requestMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveMs: number;
  /** How often expired requests are looked for (so a timeout fires at most this late). */
  checkIntervalMs: number;
}

export const DEFAULT_ADMIN_TIMEOUTS: Readonly<AdminTimeouts> = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000, checkIntervalMs: 1_000 };

export interface AdminServerOptions {
  config: ConfigService;
  registry: EndpointRegistry;
  sessions: SessionServer;
  /** Join tokens and the CA whose hash they carry; without them /v1/tokens is not served. */
  tokens?: JoinTokenStore;
  ca?: MeshCa;
  timeouts?: Partial<AdminTimeouts>;
  /**
   * TLS with weftd's own certificate, and the admin credential every request but /healthz and /readyz
   * must carry. weftd always sets it; without it (an embedding test) the API is plain HTTP and open.
   */
  security?: { serving: WeftdCertificate; credential: AdminCredentialFile };
  /** Starts a root rotation (POST /v1/ca/rotate). */
  rotateCa?: () => Promise<void>;
}

/** The health checks answer without the admin credential (load balancers and probes have none). */
const OPEN_PATHS = /^\/(healthz|readyz)(\?|$)/;

export class AdminServer {
  private readonly server: Server;

  constructor(private readonly opts: AdminServerOptions) {
    const t = { ...DEFAULT_ADMIN_TIMEOUTS, ...opts.timeouts };
    const httpOptions = { headersTimeout: t.headersMs, requestTimeout: t.requestMs, keepAliveTimeout: t.keepAliveMs, connectionsCheckingInterval: t.checkIntervalMs };
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.route(req, res).catch((e: unknown) => this.fail(req, res, e));
    };
    const serving = opts.security?.serving;
    if (serving) {
      const tlsOptions = (m = serving.current) => ({ key: m.keyPem, cert: m.chainPem });
      const server = createHttpsServer({ ...httpOptions, ...tlsOptions(), handshakeTimeout: t.headersMs }, handler);
      // A renewed or re-issued (rotation) certificate serves the next handshake; open connections go on.
      serving.onChange((m) => server.setSecureContext(tlsOptions(m)));
      this.server = server;
    } else {
      this.server = createServer(httpOptions, handler);
    }
    this.server.on('clientError', answerClientError);
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The credential first: a caller without it learns nothing, not even what is wrong with its request.
    const credential = this.opts.security?.credential;
    if (credential && !OPEN_PATHS.test(req.url ?? '')) {
      const problem = credential.check(req.headers.authorization);
      if (problem) {
        res.setHeader('www-authenticate', 'Bearer realm="weftd"');
        throw new HttpError(401, problem);
      }
    }
    const url = parseRequestTarget(req.url);
    const parts = url.segments;
    const method = req.method ?? 'GET';
    const allow = (...methods: string[]) => {
      if (methods.includes(method)) return;
      res.setHeader('allow', methods.join(', '));
      throw new HttpError(405, `method ${method} not allowed on ${url.pathname}; use ${methods.join(' or ')}`);
    };
    const query = (...allowed: ('namespace' | 'dryRun')[]) => readQuery(url.query, url.pathname, allowed);

    if (url.pathname === '/healthz') {
      allow('GET', 'HEAD');
      const store = this.opts.config.store.health();
      return store.writable ? sendText(res, 200, 'ok') : sendText(res, 503, `not ok: ${store.error}`);
    }
    if (url.pathname === '/readyz') {
      allow('GET', 'HEAD');
      const store = this.opts.config.store.health();
      return sendJson(res, store.writable ? 200 : 503, { ready: store.writable, store, sessions: this.opts.sessions.sessionInfos().length });
    }
    if (parts[0] !== 'v1') throw new HttpError(404, `no such path ${url.pathname}`);
    const [, section, ...rest] = parts;
    switch (section) {
      case 'apply': {
        if (rest.length) break;
        allow('POST');
        const { namespace, dryRun } = query('namespace', 'dryRun');
        const docs = parseBatchBody(await readBody(req), req.headers['content-type'], namespace, true);
        return sendJson(res, 200, await this.opts.config.apply(docs, { namespace, dryRun }));
      }
      case 'delete': {
        if (rest.length) break;
        allow('POST');
        const params = new URLSearchParams(url.query);
        const missing = takeMissingMode(params);
        const { namespace, dryRun } = readQuery(params, url.pathname, ['namespace', 'dryRun']);
        const docs = parseBatchBody(await readBody(req), req.headers['content-type'], namespace, false);
        const targets = this.opts.config.deleteTargets(docs, namespace);
        return sendJson(res, 200, await this.opts.config.delete(targets, { dryRun, missing }));
      }
      case 'version':
        if (rest.length) break;
        allow('GET', 'HEAD');
        query();
        return sendJson(res, 200, { version: packageVersion() });
      case 'resources':
        return this.resources(res, method, rest, query, allow);
      case 'services':
        if (rest.length) break;
        allow('GET');
        query();
        return sendJson(res, 200, { services: this.services() });
      case 'tokens': {
        const { tokens, ca } = this.opts;
        if (!tokens || !ca) break;
        query();
        return tokenRoutes(req, res, rest, { tokens, ca }, allow);
      }
      case 'ca': {
        const { ca } = this.opts;
        if (!ca) break;
        query();
        return caRoutes(req, res, rest, { ca, rotate: this.opts.rotateCa }, allow);
      }
      case 'sessions':
        if (rest.length) break;
        allow('GET');
        query();
        return sendJson(res, 200, { sessions: this.opts.sessions.sessionInfos() });
    }
    throw new HttpError(404, `no such path ${url.pathname}`);
  }

  private async resources(
    res: ServerResponse,
    method: string,
    rest: string[],
    query: (...allowed: ('namespace' | 'dryRun')[]) => { namespace?: string },
    allow: (...m: string[]) => void,
  ): Promise<void> {
    const [kindName, ns, name, ...extra] = rest;
    if (!kindName || extra.length > 0 || (ns !== undefined && name === undefined)) {
      throw new HttpError(404, 'use /v1/resources/{kind} or /v1/resources/{kind}/{namespace}/{name}');
    }
    const kind = lookupKind(kindName);
    if (!kind) throw new HttpError(404, `unknown kind ${quote(kindName)}; known: ${KINDS.map((k) => `${k.plural} (${k.shortNames.join(', ')})`).join(', ')}`);
    const config = this.opts.config;
    if (ns === undefined || name === undefined) {
      allow('GET');
      return sendJson(res, 200, { items: config.list(kind.kind, query('namespace').namespace).map(toIstioShape) });
    }
    allow('GET', 'DELETE');
    query();
    checkNamespace(ns, 'namespace');
    if (!isDnsSubdomain(name)) throw new HttpError(400, `name ${quote(name)} is not a valid resource name (at most 253 lower-case letters, digits, '-' and '.')`);
    if (method === 'DELETE') return sendJson(res, 200, await config.delete([{ kind: kind.kind, namespace: ns, name }]));
    const found = config.get(kind.kind, ns, name);
    if (!found) throw new HttpError(404, `${kind.singular}.${kind.group} ${quote(name)} not found in namespace ${ns}`);
    return sendJson(res, 200, toIstioShape(found));
  }

  private services(): unknown[] {
    const out: unknown[] = [];
    for (const [host, workloads] of this.opts.registry.workloadsByHost()) {
      const first = workloads[0];
      if (!first) continue;
      out.push({
        service: first.service,
        namespace: first.namespace,
        host,
        instances: workloads.flatMap((w) =>
          w.endpoints.map((e) => ({
            instanceId: w.instanceId,
            workloadName: w.workloadName,
            address: e.address,
            port: e.port,
            protocol: e.protocol,
            servicePort: e.servicePort,
            labels: w.labels,
            serviceAccount: w.serviceAccount,
            connected: w.connected,
            registeredAtMs: w.registeredAtMs,
          })),
        ),
      });
    }
    return out;
  }

  private fail(req: IncomingMessage, res: ServerResponse, e: unknown): void {
    if (res.headersSent || isClientGoneError(e)) {
      res.destroy();
      return;
    }
    // Refused before its body was read (a body announced as too large, a wrong method or type): close
    // after the answer rather than read the rest. A body found too large while streaming was drained
    // first (readBody), so its client reads the 413 instead of a reset.
    if (!req.complete) res.setHeader('connection', 'close');
    if (e instanceof HttpError) return sendJson(res, e.status, { error: e.message, ...e.extra });
    if (isConfigWriteError(e)) {
      return sendJson(res, e.code === 'NOT_FOUND' ? 404 : e.code === 'TOO_LARGE' ? 413 : 400, { error: e.summary, issues: e.issues });
    }
    // Not a fault of weftd's code but of its disk: /healthz already says why; nothing was written.
    if (isStoreWriteRefusedError(e)) return sendJson(res, 503, { error: `${e.message}; nothing was written, try again once GET /readyz reports the store writable` });
    process.stderr.write(`weftd: admin API error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    sendJson(res, 500, { error: `internal error: ${e instanceof Error ? e.message : String(e)}` });
  }
}

/**
 * Reads and removes `missing` of POST /v1/delete: `fail` (the default: a missing resource is a 404
 * and nothing is deleted) or `ignore` (what exists is deleted, the rest listed in `missing`).
 */
function takeMissingMode(params: URLSearchParams): MissingMode {
  const values = params.getAll('missing');
  params.delete('missing');
  if (values.length > 1) throw new HttpError(400, 'query parameter missing given more than once');
  const mode = values[0] ?? 'fail';
  if (mode !== 'fail' && mode !== 'ignore') throw new HttpError(400, `query parameter missing must be fail or ignore, got ${quote(mode)}`);
  return mode;
}

/**
 * Requests Node's parser refuses before they reach route() (a malformed request line, headers too
 * large, a request timeout): answered with a JSON error naming the problem, then closed.
 */
function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, reason, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'the request was not received in time; send the whole request at once']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
        : [400, 'Bad Request', `malformed HTTP request (${err.code ?? err.message})`];
  const body = JSON.stringify({ error: message });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
