// The gRPC side of weftd: one weft.v1.ControlPlane/Session stream per workload process.
//
// Pushes are built once and written to every session that needs them. Per store revision a config
// delta (what changed since the previous revision) is serialized once for the sessions that hold the
// previous revision, and the full snapshot at most once, for the others (config-feed.ts); an
// EndpointsUpdate is serialized once per distinct set of changed hosts (in parts when it is large,
// endpoint-parts.ts).
//
// Nothing a client does may take weftd down: weftd owns the TCP listener (connection-guard.ts: a
// handshake deadline and per-peer limits), bounds the sessions it holds, what one session may
// register and subscribe (validate-session-request.ts, packages/api/src/limits.ts) and how much it
// logs of one session's NACKs (nack-log.ts), and keeps no state for a host once nobody asks for it.
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS_PER_PEER,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_MAX_STREAMS_PER_CONNECTION,
  ENDPOINTS_PART_BYTES,
  MAX_CLIENT_MESSAGE_BYTES,
  MAX_CONFIRM_TIMEOUT_MS,
  MAX_SERVER_MESSAGE_BYTES,
  MAX_SUBSCRIPTIONS_PER_SESSION,
  RESUME_HOLD_MARGIN_MS,
  SESSION_RECONNECT_CAP_MS,
  serviceFqdn,
  toFqdn,
  type EndpointsUpdateMsg,
  type HostEndpointsMsg,
  type CertificateRequestMsg,
  type SessionRequestMsg,
} from '@weft/api';
import type { ConfigService } from '../config/config-service.js';
import type { CertificateIssuer } from '../identity/certificate-issuer.js';
import type { MeshCa } from '../identity/mesh-ca.js';
import type { EndpointRegistry, RegistrySizes } from '../registry/endpoint-registry.js';
import type { StoreChange } from '../store/stored-resource.js';
import { ConfigFeed, type PreparedConfig } from './config-feed.js';
import { ConnectionGuard, type Connection } from './connection-guard.js';
import { endpointParts } from './endpoint-parts.js';
import { PushConfirmations } from './push-confirmations.js';
import { passThroughService, serializeResponse } from './response-bytes.js';
import { Session, type SessionCall, type SessionInfo } from './session.js';
import { SessionServerCredentials } from './session-credentials.js';
import type { WeftdCertificate } from '../identity/weftd-certificate.js';
import { parseSpiffeId } from '@weft/ca';
import { sessionRequestProblem } from './validate-session-request.js';

export interface SessionServerOptions {
  config: ConfigService;
  registry: EndpointRegistry;
  /** How long a broken session's endpoints stay; resumed sessions are held back for twice this after start. */
  endpointGraceMs: number;
  /** gRPC keepalive ping interval and timeout, so a silent peer is detected. */
  keepaliveMs: number;
  /** A session must say Hello, and a connection carry one that did, within this (--handshake-timeout). */
  handshakeTimeoutMs?: number;
  /** Sessions held at once (--max-sessions). */
  maxSessions?: number;
  /** TCP connections from one peer address (--max-connections-per-peer). */
  maxConnectionsPerPeer?: number;
  /** Session streams on one connection (--max-streams-per-connection). */
  maxStreamsPerConnection?: number;
  log?: (message: string) => void;
  /**
   * The mesh CA, who may have its certificates, and weftd's own certificate: with them the port is TLS,
   * a session's identity must be proved (by its client certificate, or a certificate signed for it on
   * that connection) before it may register endpoints, and a Hello must name the identity it proved.
   * Without them (an embedding test) the port is plaintext and certificate requests are refused.
   */
  identity?: { ca: MeshCa; issuer: CertificateIssuer; serving: WeftdCertificate };
}

/** How much the session server holds, for tests and the memory benchmark. */
export interface SessionServerSizes {
  sessions: number;
  subscribedHosts: number;
  connections: number;
  registry: RegistrySizes;
}

export class SessionServer {
  readonly serverId = randomUUID();
  private readonly server: grpc.Server;
  private readonly guard: ConnectionGuard;
  private readonly sessions = new Set<Session>();
  private readonly subscribers = new Map<string, Set<Session>>();
  private readonly connectionOf = new WeakMap<Session, Connection>();
  private readonly handshakeTimers = new WeakMap<Session, NodeJS.Timeout>();
  /** SPIFFE IDs proved on a connection by a certificate weftd signed there. */
  private readonly provenOnConnection = new WeakMap<Connection, string>();
  private readonly startedAtMs = Date.now();
  private readonly warmupEndsAtMs: number;
  private readonly warmupTimer: NodeJS.Timeout;
  private readonly configFeed: ConfigFeed;
  private readonly confirmations = new PushConfirmations<Session>((s, registered) => {
    if (!s.closed) s.call.write(serializeResponse({ kind: 'registered', registered }));
  });
  private readonly handshakeTimeoutMs: number;
  private readonly maxSessions: number;
  private nonceCounter = 0;
  private readonly log: (message: string) => void;

  constructor(private readonly opts: SessionServerOptions) {
    this.log = opts.log ?? ((m) => process.stderr.write(`weftd: ${m}\n`));
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.maxSessions = opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
    const maxStreamsPerConnection = opts.maxStreamsPerConnection ?? DEFAULT_MAX_STREAMS_PER_CONNECTION;
    this.server = new grpc.Server({
      'grpc.keepalive_time_ms': opts.keepaliveMs,
      'grpc.keepalive_timeout_ms': opts.keepaliveMs,
      'grpc.keepalive_permit_without_calls': 1,
      // Set on purpose, with the SDK's side of each (packages/api/src/limits.ts): requests are small,
      // responses may carry the whole config.
      'grpc.max_receive_message_length': MAX_CLIENT_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_SERVER_MESSAGE_BYTES,
      // HTTP/2's own bound on open streams, above ours so that a client over our limit gets our status
      // (RESOURCE_EXHAUSTED naming the flag) rather than a bare refused stream.
      'grpc.max_concurrent_streams': 2 * maxStreamsPerConnection,
    });
    this.server.addService(passThroughService, { Session: (call: SessionCall) => this.handle(call) });
    const serving = opts.identity?.serving;
    let credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure();
    if (serving) {
      const tls = new SessionServerCredentials(serving.current);
      serving.onChange((m) => tls.update(m));
      credentials = tls;
    }
    const injector = this.server.createConnectionInjector(credentials);
    this.guard = new ConnectionGuard(
      {
        handshakeTimeoutMs: this.handshakeTimeoutMs,
        maxConnectionsPerPeer: opts.maxConnectionsPerPeer ?? DEFAULT_MAX_CONNECTIONS_PER_PEER,
        maxStreamsPerConnection,
      },
      (socket) => injector.injectConnection(socket),
      this.log,
    );
    this.configFeed = new ConfigFeed(opts.config.store, () => this.nextNonce());
    opts.config.store.onChange((change) => this.pushConfig(change));
    opts.registry.onHostsChanged((hosts, version) => this.pushEndpoints(hosts, version));
    opts.identity?.ca.onBundleChange((_bundle, change) => this.pushBundle(change === 'root-activated'));
    const hold = Math.max(2 * opts.endpointGraceMs, SESSION_RECONNECT_CAP_MS + RESUME_HOLD_MARGIN_MS);
    this.warmupEndsAtMs = this.startedAtMs + hold;
    this.warmupTimer = setTimeout(() => this.endWarmup(), hold);
    this.warmupTimer.unref();
  }

  /** Binds host:port (0 = any free port) and returns the port. */
  listen(host: string, port: number): Promise<number> {
    return this.guard.listen(host, port);
  }

  sessionInfos(): SessionInfo[] {
    return [...this.sessions].map((s) => s.info());
  }

  sizes(): SessionServerSizes {
    return { sessions: this.sessions.size, subscribedHosts: this.subscribers.size, connections: this.guard.sizes().connections, registry: this.opts.registry.sizes() };
  }

  /** Ends every session and stops the server (forcefully after `graceMs`). */
  async close(graceMs = 500): Promise<void> {
    clearTimeout(this.warmupTimer);
    this.confirmations.close();
    for (const s of this.sessions) {
      s.closed = true;
      s.call.end();
    }
    const listenerClosed = this.guard.close(graceMs);
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
    await listenerClosed;
  }

  private handle(call: SessionCall): void {
    const conn = this.guard.find(call.getPeer());
    const refusal = this.sessions.size >= this.maxSessions
      ? `weftd holds ${this.sessions.size} sessions, the most it allows (--max-sessions ${this.maxSessions}); retry later`
      : conn && this.guard.streamOpened(conn);
    if (refusal) {
      call.on('error', () => undefined);
      call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: refusal } satisfies Partial<grpc.StatusObject>);
      return;
    }
    const session = new Session(randomUUID(), call, call.getPeer(), Date.now());
    this.sessions.add(session);
    if (conn) this.connectionOf.set(session, conn);
    const handshake = setTimeout(
      () => this.refuse(session, grpc.status.DEADLINE_EXCEEDED, `no hello within ${this.handshakeTimeoutMs} ms of opening the session (weftd --handshake-timeout); the first message of a session must be hello`),
      this.handshakeTimeoutMs,
    );
    handshake.unref();
    this.handshakeTimers.set(session, handshake);
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
    const order = this.orderProblem(session, msg);
    if (order) return this.refuse(session, grpc.status.INVALID_ARGUMENT, order);
    const problem = sessionRequestProblem(msg, session.namespace || undefined);
    if (problem) return this.refuse(session, problem.kind === 'limit' ? grpc.status.RESOURCE_EXHAUSTED : grpc.status.INVALID_ARGUMENT, problem.message);
    switch (msg.kind) {
      case 'hello': {
        const w = msg.hello.workload;
        const identityProblem = this.proveAtHello(session, w.namespace, w.serviceAccount);
        if (identityProblem) {
          this.log(`session ${session.id} from ${session.peer}: refused: ${identityProblem}`);
          return this.refuse(session, grpc.status.PERMISSION_DENIED, identityProblem);
        }
        const connected = this.opts.registry.connect(w, session.id);
        if (!connected.ok) return this.refuse(session, grpc.status.ALREADY_EXISTS, connected.reason);
        Object.assign(session, { instanceId: w.instanceId, service: w.service, namespace: w.namespace, serviceAccount: w.serviceAccount });
        clearTimeout(this.handshakeTimers.get(session));
        const conn = this.connectionOf.get(session);
        if (conn) this.guard.greeted(conn);
        session.heldForWarmup = msg.hello.resume && Date.now() < this.warmupEndsAtMs;
        session.acceptsConfigDeltas = msg.hello.acceptsConfigDeltas === true;
        session.acceptsSplitEndpoints = msg.hello.acceptsSplitEndpoints === true;
        const ca = this.opts.identity?.ca;
        const trust = ca ? { trustBundlePem: ca.bundlePems(), bundleVersion: ca.bundle.version, challenge: session.challenge } : {};
        session.call.write(serializeResponse({ kind: 'welcome', welcome: { sessionId: session.id, serverId: this.serverId, ...trust } }));
        if (ca) session.bundle.sentVersion = session.bundle.ackedVersion = String(ca.bundle.version);
        sendConfig(session, this.configFeed.full()); // a new stream always starts from the whole snapshot
        return;
      }
      case 'register': {
        if (this.opts.identity && !session.provenSpiffeId && msg.register.endpoints.length > 0) {
          const problem =
            `registering endpoints needs a proven identity, and this session has none: service account ${session.serviceAccount} of namespace ${session.namespace} ` +
            'was proved neither by a client certificate nor by a join token on this connection; start the workload with a join token (WEFT_TOKEN, weftctl token create)';
          this.log(`session ${session.id} (${session.service}.${session.namespace}) from ${session.peer}: refused: ${problem}`);
          return this.refuse(session, grpc.status.PERMISSION_DENIED, problem);
        }
        this.opts.registry.register(session.instanceId, session.id, msg.register.endpoints);
        const requestId = msg.register.requestId;
        if (requestId) this.confirmations.expect(session, requestId, serviceFqdn(session.service, session.namespace), msg.register.confirmTimeoutMs || MAX_CONFIRM_TIMEOUT_MS);
        return;
      }
      case 'subscribe': {
        // Hosts name services as Istio reads them: a short name is in the workload's own namespace.
        const hosts = [...new Set(msg.subscribe.hosts.map((h) => toFqdn(h, session.namespace)))];
        const added = hosts.filter((h) => !session.subscriptions.has(h)).length;
        if (session.subscriptions.size + added > MAX_SUBSCRIPTIONS_PER_SESSION) {
          return this.refuse(
            session,
            grpc.status.RESOURCE_EXHAUSTED,
            `the session would subscribe to ${session.subscriptions.size + added} hosts; a session may subscribe to at most ${MAX_SUBSCRIPTIONS_PER_SESSION} (MAX_SUBSCRIPTIONS_PER_SESSION)`,
          );
        }
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
      case 'certificateRequest':
        return this.issueCertificate(session, msg.certificateRequest);
      case 'ack': {
        const outcome = session.recordAck(msg.ack);
        for (const line of outcome.logs) this.log(line);
        if (outcome.answered?.type === 'endpoints') this.confirmations.answered(session, Number(outcome.answered.version));
        if (outcome.resendFullConfig) sendConfig(session, this.configFeed.full());
        return;
      }
    }
  }

  /**
   * Signs a certificate for the session's own identity once it is proved; a proof that does not hold
   * (a bad token, one for another identity, a renewal without a valid certificate) ends the session with
   * PERMISSION_DENIED, so a workload never goes on as an identity it did not prove.
   */
  private issueCertificate(session: Session, req: CertificateRequestMsg): void {
    const issuer = this.opts.identity?.issuer;
    if (!issuer) return this.refuse(session, grpc.status.UNIMPLEMENTED, 'this weftd has no CA; certificate requests are not served');
    issuer
      .issue({ namespace: session.namespace, serviceAccount: session.serviceAccount, challenge: session.challenge }, req)
      .then((outcome) => {
        if (session.closed) return;
        if (!outcome.ok) {
          this.log(`session ${session.id} (${session.serviceAccount}.${session.namespace}): certificate refused: ${outcome.message}`);
          return this.refuse(session, outcome.kind === 'denied' ? grpc.status.PERMISSION_DENIED : grpc.status.INVALID_ARGUMENT, outcome.message);
        }
        session.provenSpiffeId = outcome.certificate.spiffeId;
        // Later sessions on this connection (a stream re-opened after a refusal) are the same peer.
        const conn = this.connectionOf.get(session);
        if (conn) this.provenOnConnection.set(conn, outcome.certificate.spiffeId);
        session.call.write(serializeResponse({ kind: 'certificate', certificate: outcome.certificate }));
      })
      .catch((e: unknown) => {
        this.log(`session ${session.id}: signing a certificate failed: ${(e as Error).message}`);
        if (!session.closed) this.refuse(session, grpc.status.INTERNAL, `weftd could not sign the certificate: ${(e as Error).message}`);
      });
  }

  /**
   * The identity a new session proved before its Hello: its TLS client certificate (verified by
   * OpenSSL against the trust bundle; grpc-js shows only a verified one), or a certificate weftd signed
   * on the same connection. A proof for another identity than the Hello's is a refusal; no proof leaves
   * the session unproved (it may watch config and call, not register).
   */
  private proveAtHello(session: Session, namespace: string, serviceAccount: string): string | undefined {
    const ca = this.opts.identity?.ca;
    if (!ca) return undefined;
    const conn = this.connectionOf.get(session);
    const sans = String(session.call.getAuthContext?.()?.sslPeerCertificate?.subjectaltname ?? '');
    const uris = sans.split(', ').filter((n) => n.startsWith('URI:')).map((n) => n.slice(4));
    const proven = uris.length > 0 ? uris : [conn && this.provenOnConnection.get(conn)].filter((u): u is string => !!u);
    if (proven.length === 0) return undefined;
    if (proven.length > 1) return `the client certificate names ${proven.length} URIs (${proven.join(', ')}); a workload certificate names one SPIFFE ID`;
    const uri = proven[0]!;
    let id;
    try {
      id = parseSpiffeId(uri);
    } catch (e) {
      return `the client certificate's URI ${uri} is not a SPIFFE ID (${(e as Error).message})`;
    }
    if (id.trustDomain !== ca.trustDomain || id.namespace !== namespace || id.serviceAccount !== serviceAccount) {
      return (
        `hello says namespace ${namespace}, service account ${serviceAccount}, but this connection proved ${uri}: ` +
        'a workload may only say hello as the identity of its certificate (create the mesh with that namespace and service account, or enrol this identity with its own join token)'
      );
    }
    session.provenSpiffeId = uri;
    return undefined;
  }

  private orderProblem(session: Session, msg: SessionRequestMsg): string | undefined {
    if (!session.helloReceived && msg.kind !== 'hello') return `the first message of a session must be hello, got ${msg.kind ?? 'a message that sets none of hello, register, subscribe, ack, certificate_request'}`;
    if (session.helloReceived && msg.kind === 'hello') return 'hello was already received on this session';
    return undefined;
  }

  /** Ends the session with a status and what is wrong; nothing more is read from it. */
  private refuse(session: Session, code: grpc.status, details: string): void {
    const call = session.call;
    this.finish(session);
    call.emit('error', { code, details } satisfies Partial<grpc.StatusObject>);
  }

  private finish(session: Session): void {
    if (!this.sessions.delete(session)) return;
    session.closed = true;
    clearTimeout(this.handshakeTimers.get(session));
    const conn = this.connectionOf.get(session);
    if (conn) this.guard.streamClosed(conn, session.helloReceived);
    for (const host of session.subscriptions) {
      const set = this.subscribers.get(host);
      set?.delete(session);
      if (set?.size === 0) this.subscribers.delete(host);
    }
    session.subscriptions.clear();
    this.confirmations.gone(session);
    if (session.helloReceived) this.opts.registry.disconnect(session.instanceId, session.id);
    const summary = session.nackSummary();
    if (summary) this.log(summary);
  }

  /**
   * Sessions that said Hello and have not yet ACKed trust bundle `version` (or a later one): what a
   * rotation waits for before the new root may sign.
   */
  sessionsBehindBundle(version: number): SessionInfo[] {
    return [...this.sessions].filter((s) => s.helloReceived && !(Number(s.bundle.ackedVersion) >= version)).map((s) => s.info());
  }

  /** Writes the current trust bundle to every session; `renew` asks them to renew their certificates now. */
  private pushBundle(renew: boolean): void {
    const ca = this.opts.identity?.ca;
    if (!ca) return;
    const nonce = this.nextNonce();
    const version = String(ca.bundle.version);
    const bytes = serializeResponse({ kind: 'bundle', bundle: { trustBundlePem: ca.bundlePems(), bundleVersion: ca.bundle.version, renew, nonce } });
    for (const s of this.sessions) if (s.helloReceived) s.sendUpdate('bundle', version, nonce, bytes);
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

  private pushEndpoints(hosts: string[], version: number): void {
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
    if (this.confirmations.size > 0) {
      this.confirmations.pushed(hosts, version, (host) => [...(this.subscribers.get(host) ?? [])].filter((s) => !s.heldForWarmup));
    }
  }

  /**
   * Writes the current lists of `hosts` to `sessions`: one message when it is small (nearly always),
   * else in parts (endpoint-parts.ts), each serialized once for all sessions that read parts alike.
   */
  private sendEndpoints(sessions: Session[], hosts: string[]): void {
    const registry = this.opts.registry;
    const version = String(registry.version);
    const lists = hosts.map((h) => registry.hostEndpoints(h));
    const whole: EndpointsUpdateMsg = { version, nonce: this.nextNonce(), hosts: lists };
    const bytes = serializeResponse({ kind: 'endpoints', endpoints: whole });
    if (bytes.length <= ENDPOINTS_PART_BYTES) {
      for (const s of sessions) s.sendUpdate('endpoints', version, whole.nonce, bytes);
      return;
    }
    const sizeOf = (h: HostEndpointsMsg) => serializeResponse({ kind: 'endpoints', endpoints: { version, nonce: whole.nonce, hosts: [h] } }).length;
    for (const split of [true, false]) {
      const readers = sessions.filter((s) => s.acceptsSplitEndpoints === split);
      if (readers.length === 0) continue;
      const parts = endpointParts(lists, ENDPOINTS_PART_BYTES, split, sizeOf);
      parts.forEach((part, i) => {
        // Parts are one update for a client that reassembles them (`more` on all but the last), and
        // independent updates (each host listed whole) for one that does not.
        const update: EndpointsUpdateMsg = { version, nonce: this.nextNonce(), hosts: part, more: split && i < parts.length - 1 };
        const partBytes = serializeResponse({ kind: 'endpoints', endpoints: update });
        for (const s of readers) s.sendUpdate('endpoints', version, update.nonce, partBytes);
      });
    }
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
