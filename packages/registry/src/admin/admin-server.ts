// weftd's admin HTTP API (JSON), used by weftctl. See the README of packages/registry for the routes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lookupKind } from '@weft/api';
import { isConfigWriteError } from '../config/config-errors.js';
import type { ConfigService } from '../config/config-service.js';
import { toIstioShape } from '../config/resource-views.js';
import type { EndpointRegistry } from '../registry/endpoint-registry.js';
import type { SessionServer } from '../session/session-server.js';
import { parseBatchBody } from './batch-body.js';
import { HttpError, readBody, sendJson, sendText } from './http-utils.js';

export interface AdminServerOptions {
  config: ConfigService;
  registry: EndpointRegistry;
  sessions: SessionServer;
}

export class AdminServer {
  private readonly server: Server;

  constructor(private readonly opts: AdminServerOptions) {
    this.server = createServer((req, res) => {
      this.route(req, res).catch((e: unknown) => this.fail(res, e));
    });
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
    const url = new URL(req.url ?? '/', 'http://weftd');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const namespace = url.searchParams.get('namespace') || undefined;
    const allow = (...methods: string[]) => {
      if (!methods.includes(method)) throw new HttpError(405, `method ${method} not allowed on ${url.pathname}; use ${methods.join(' or ')}`);
    };

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
        const docs = parseBatchBody(await readBody(req), req.headers['content-type'], namespace, true);
        const result = await this.opts.config.apply(docs, { namespace, dryRun: url.searchParams.get('dryRun') === 'true' });
        return sendJson(res, 200, result);
      }
      case 'delete': {
        if (rest.length) break;
        allow('POST');
        const docs = parseBatchBody(await readBody(req), req.headers['content-type'], namespace, false);
        const targets = this.opts.config.deleteTargets(docs, namespace);
        return sendJson(res, 200, await this.opts.config.delete(targets, { dryRun: url.searchParams.get('dryRun') === 'true' }));
      }
      case 'resources':
        return this.resources(req, res, method, rest, namespace, allow);
      case 'services':
        if (rest.length) break;
        allow('GET');
        return sendJson(res, 200, { services: this.services() });
      case 'sessions':
        if (rest.length) break;
        allow('GET');
        return sendJson(res, 200, { sessions: this.opts.sessions.sessionInfos() });
    }
    throw new HttpError(404, `no such path ${url.pathname}`);
  }

  private async resources(
    _req: IncomingMessage,
    res: ServerResponse,
    method: string,
    rest: string[],
    namespace: string | undefined,
    allow: (...m: string[]) => void,
  ): Promise<void> {
    const [kindName, ns, name, ...extra] = rest;
    if (!kindName || extra.length > 0 || (ns !== undefined && name === undefined)) {
      throw new HttpError(404, 'use /v1/resources/{kind} or /v1/resources/{kind}/{namespace}/{name}');
    }
    const kind = lookupKind(kindName);
    if (!kind) throw new HttpError(404, `unknown kind ${JSON.stringify(kindName)}; known: virtualservices (vs), destinationrules (dr)`);
    const config = this.opts.config;
    if (ns === undefined || name === undefined) {
      allow('GET');
      return sendJson(res, 200, { items: config.list(kind.kind, namespace).map(toIstioShape) });
    }
    allow('GET', 'DELETE');
    if (method === 'DELETE') return sendJson(res, 200, await config.delete([{ kind: kind.kind, namespace: ns, name }]));
    const found = config.get(kind.kind, ns, name);
    if (!found) throw new HttpError(404, `${kind.singular}.${kind.group} ${JSON.stringify(name)} not found in namespace ${ns}`);
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

  private fail(res: ServerResponse, e: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (e instanceof HttpError) return sendJson(res, e.status, { error: e.message, ...e.extra });
    if (isConfigWriteError(e)) {
      return sendJson(res, e.code === 'NOT_FOUND' ? 404 : e.code === 'TOO_LARGE' ? 413 : 400, { error: e.summary, issues: e.issues });
    }
    process.stderr.write(`weftd: admin API error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    sendJson(res, 500, { error: `internal error: ${e instanceof Error ? e.message : String(e)}` });
  }
}
