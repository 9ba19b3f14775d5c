// The gRPC side of weftd: one weft.v1.ControlPlane/Session stream per workload process.
//
// Pushes are built once and written to every session that needs them. Per store revision a config
// delta (what changed since the previous revision) is serialized once for the sessions that hold the
// previous revision, and the full snapshot at most once, for the others (config-feed.ts); an
// EndpointsUpdate is serialized once per distinct set of changed hosts.
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { toFqdn, type EndpointsUpdateMsg, type SessionRequestMsg } from '@weft/api';
import type { ConfigService } from '../config/config-service.js';
import type { EndpointRegistry } from '../registry/endpoint-registry.js';
import type { StoreChange } from '../store/stored-resource.js';
import { ConfigFeed, type PreparedConfig } from './config-feed.js';
import { passThroughService, serializeResponse } from './response-bytes.js';
import { Session, type SessionCall, type SessionInfo } from './session.js';
import { sessionRequestProblem } from './validate-session-request.js';

export interface SessionServerOptions {
  config: ConfigService;
  registry: EndpointRegistry;
  /** How long a broken session's endpoints stay; resumed sessions are held back for twice this after start. */
  endpointGraceMs: number;
  /** gRPC keepalive ping interval and timeout, so a silent peer is detected. */
  keepaliveMs: number;
  log?: (message: string) => void;
}

export class SessionServer {
  readonly serverId = randomUUID();
  private readonly server: grpc.Server;
  private readonly sessions = new Set<Session>();
  private readonly subscribers = new Map<string, Set<Session>>();
  private readonly startedAtMs = Date.now();
  private readonly warmupEndsAtMs: number;
  private readonly warmupTimer: NodeJS.Timeout;
  private readonly configFeed: ConfigFeed;
  private nonceCounter = 0;
  private readonly log: (message: string) => void;

  constructor(private readonly opts: SessionServerOptions) {
    this.log = opts.log ?? ((m) => process.stderr.write(`weftd: ${m}\n`));
    this.server = new grpc.Server({
      'grpc.keepalive_time_ms': opts.keepaliveMs,
      'grpc.keepalive_timeout_ms': opts.keepaliveMs,
      'grpc.keepalive_permit_without_calls': 1,
    });
    this.server.addService(passThroughService, { Session: (call: SessionCall) => this.handle(call) });
    this.configFeed = new ConfigFeed(opts.config.store, () => this.nextNonce());
    opts.config.store.onChange((change) => this.pushConfig(change));
    opts.registry.onHostsChanged((hosts, version) => this.pushEndpoints(hosts, version));
    this.warmupEndsAtMs = this.startedAtMs + 2 * opts.endpointGraceMs;
    this.warmupTimer = setTimeout(() => this.endWarmup(), 2 * opts.endpointGraceMs);
    this.warmupTimer.unref();
  }

  /** Binds host:port (0 = any free port) and returns the port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, boundPort) => (err ? reject(err) : resolve(boundPort)));
    });
  }

  sessionInfos(): SessionInfo[] {
    return [...this.sessions].map((s) => s.info());
  }

  /** Ends every session and stops the server (forcefully after `graceMs`). */
  async close(graceMs = 500): Promise<void> {
    clearTimeout(this.warmupTimer);
    for (const s of this.sessions) {
      s.closed = true;
      s.call.end();
    }
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private handle(call: SessionCall): void {
    const session = new Session(randomUUID(), call, call.getPeer(), Date.now());
    this.sessions.add(session);
    const finish = () => this.finish(session);
    call.on('data', (msg: SessionRequestMsg) => this.onMessage(session, msg));
    call.on('end', () => {
      finish();
      call.end();
    });
    call.on('cancelled', finish);
    call.on('error', finish);
    call.on('close', finish);
  }

  private onMessage(session: Session, msg: SessionRequestMsg): void {
    if (session.closed) return;
    const problem = sessionRequestProblem(msg) ?? this.orderProblem(session, msg);
    if (problem) return this.reject(session, problem);
    switch (msg.kind) {
      case 'hello': {
        const w = msg.hello.workload;
        Object.assign(session, { instanceId: w.instanceId, service: w.service, namespace: w.namespace });
        this.opts.registry.connect(w, session.id);
        session.heldForWarmup = msg.hello.resume && Date.now() < this.warmupEndsAtMs;
        session.acceptsConfigDeltas = msg.hello.acceptsConfigDeltas === true;
        session.call.write(serializeResponse({ kind: 'welcome', welcome: { sessionId: session.id, serverId: this.serverId } }));
        sendConfig(session, this.configFeed.full()); // a new stream always starts from the whole snapshot
        return;
      }
      case 'register':
        this.opts.registry.register(session.instanceId, session.id, msg.register.endpoints);
        return;
      case 'subscribe': {
        // Hosts name services as Istio reads them: a short name is in the workload's own namespace.
        const hosts = [...new Set(msg.subscribe.hosts.map((h) => toFqdn(h, session.namespace)))];
        for (const host of hosts) {
          session.subscriptions.add(host);
          let set = this.subscribers.get(host);
          if (!set) this.subscribers.set(host, (set = new Set()));
          set.add(session);
        }
        // Every requested host is answered (even one already subscribed): a complete list is harmless,
        // and a caller waiting for its answer must get one.
        if (!session.heldForWarmup) this.sendEndpoints([session], hosts);
        return;
      }
      case 'ack': {
        const outcome = session.recordAck(msg.ack);
        if (outcome.log) this.log(outcome.log);
        if (outcome.resendFullConfig) sendConfig(session, this.configFeed.full());
        return;
      }
    }
  }

  private orderProblem(session: Session, msg: SessionRequestMsg): string | undefined {
    if (!session.helloReceived && msg.kind !== 'hello') return `the first message of a session must be hello, got ${msg.kind}`;
    if (session.helloReceived && msg.kind === 'hello') return 'hello was already received on this session';
    return undefined;
  }

  private reject(session: Session, problem: string): void {
    const call = session.call;
    this.finish(session);
    call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: problem } satisfies Partial<grpc.StatusObject>);
  }

  private finish(session: Session): void {
    if (!this.sessions.delete(session)) return;
    session.closed = true;
    for (const host of session.subscriptions) {
      const set = this.subscribers.get(host);
      set?.delete(session);
      if (set?.size === 0) this.subscribers.delete(host);
    }
    if (session.helloReceived) this.opts.registry.disconnect(session.instanceId, session.id);
  }

  private nextNonce(): string {
    return `${this.serverId.slice(0, 8)}-${++this.nonceCounter}`;
  }

  private pushConfig(change: StoreChange): void {
    this.configFeed.advance(change);
    for (const s of this.sessions) {
      if (s.helloReceived) sendConfig(s, this.configFeed.updateFor(s.config.sentVersion, s.acceptsConfigDeltas));
    }
  }

  private pushEndpoints(hosts: string[], _version: number): void {
    const perSession = new Map<Session, string[]>();
    for (const host of hosts) {
      for (const s of this.subscribers.get(host) ?? []) {
        if (s.heldForWarmup) continue;
        const list = perSession.get(s);
        if (list) list.push(host);
        else perSession.set(s, [host]);
      }
    }
    // Sessions that subscribed to the same changed hosts get the same bytes.
    const groups = new Map<string, { hosts: string[]; sessions: Session[] }>();
    for (const [s, list] of perSession) {
      const key = list.join('\n');
      const group = groups.get(key);
      if (group) group.sessions.push(s);
      else groups.set(key, { hosts: list, sessions: [s] });
    }
    for (const g of groups.values()) this.sendEndpoints(g.sessions, g.hosts);
  }

  private sendEndpoints(sessions: Session[], hosts: string[]): void {
    const registry = this.opts.registry;
    const endpoints: EndpointsUpdateMsg = { version: String(registry.version), nonce: this.nextNonce(), hosts: hosts.map((h) => registry.hostEndpoints(h)) };
    const bytes = serializeResponse({ kind: 'endpoints', endpoints });
    for (const s of sessions) s.sendUpdate('endpoints', endpoints.version, endpoints.nonce, bytes);
  }

  private endWarmup(): void {
    for (const s of this.sessions) {
      if (!s.heldForWarmup) continue;
      s.heldForWarmup = false;
      if (s.subscriptions.size > 0) this.sendEndpoints([s], [...s.subscriptions]);
    }
  }
}

function sendConfig(session: Session, update: PreparedConfig): void {
  session.sendUpdate('config', update.version, update.nonce, update.bytes, update.delta);
}
