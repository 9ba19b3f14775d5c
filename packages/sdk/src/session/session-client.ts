// The workload's one session with weftd: a grpc-js bidi stream (weft.v1.ControlPlane/Session).
// It keeps what must be re-sent after a reconnect (the registered endpoints, every subscribed host)
// and re-opens the stream by itself with jittered backoff. While the stream is down nothing of the
// client's view is dropped: the mesh keeps serving with what it last heard (static stability).
// A session weftd refuses (an instance id still held by this workload's previous stream, which weftd
// has not yet seen end) is retried the same way. Message sizes and subscription counts keep to
// weftd's limits (packages/api/src/limits.ts), and an update weftd sends in parts is reassembled here.
import * as grpc from '@grpc/grpc-js';
import {
  ControlPlaneClient,
  MAX_CLIENT_MESSAGE_BYTES,
  MAX_ENDPOINTS_PER_SESSION,
  MAX_NACK_ERROR_LENGTH,
  MAX_SERVER_MESSAGE_BYTES,
  MAX_SUBSCRIPTIONS_PER_SESSION,
  SESSION_RECONNECT_CAP_MS,
  SUBSCRIBE_BATCH_HOSTS,
  type CertificateMsg,
  type CertificateRequestMsg,
  type ConfigUpdateMsg,
  type EndpointMsg,
  type EndpointsUpdateMsg,
  type HostEndpointsMsg,
  type RegisteredMsg,
  type SessionResponseMsg,
  type TrustBundleUpdateMsg,
  type UpdateType,
  type WelcomeMsg,
  type WorkloadMsg,
} from '@weft/api';
import { Backoff } from './backoff.js';
import { UnrefChannelCredentials } from './unref-credentials.js';

export interface SessionHandlers {
  welcome(msg: WelcomeMsg): void;
  /** A certificate weftd signed (answer to requestCertificate). */
  certificate?(msg: CertificateMsg): void;
  /** A new trust bundle (root rotation); ACKed by the session client once this returns. */
  bundle?(msg: TrustBundleUpdateMsg): void;
  config(msg: ConfigUpdateMsg): void;
  endpoints(msg: EndpointsUpdateMsg): void;
  disconnected(reason: string): void;
  /** A stream ended before weftd welcomed it: the connection or the session was refused. */
  connectFailed(code: string, details: string): void;
  error(e: unknown): void;
}

export interface SessionClientOptions {
  address: string;
  workload: WorkloadMsg;
  sdkVersion: string;
  /** True once the mesh holds a view worth keeping: sent as Hello.resume on reconnects. */
  holdsView(): boolean;
  keepaliveMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** TLS to weftd (weftd-channel-credentials.ts). */
  credentials: grpc.ChannelCredentials;
  /**
   * True while the workload cannot prove its identity on a new session (its certificate expired while
   * weftd was out of reach): the endpoints are then not sent with the Hello (weftd would refuse them and
   * end the session) but by `flushRegistration` once a certificate arrived on this session.
   */
  holdRegistration?: () => boolean;
}

/** A session must have lived this long before the reconnect backoff starts again from its base. */
const STABLE_SESSION_MS = 2000;

type SessionRequestWire =
  | { hello: { workload: WorkloadMsg; sdkVersion: string; resume: boolean; acceptsConfigDeltas: boolean; acceptsSplitEndpoints: boolean } }
  | { register: { endpoints: EndpointMsg[]; requestId?: string; confirmTimeoutMs?: number } }
  | { subscribe: { hosts: string[] } }
  | { ack: { type: UpdateType; version: string; nonce: string; error: string } }
  | { certificateRequest: CertificateRequestMsg };

type SessionCall = grpc.ClientDuplexStream<SessionRequestWire, SessionResponseMsg>;
type SessionStub = grpc.Client & { Session(options?: grpc.CallOptions): SessionCall };

export class SessionClient {
  private readonly client: SessionStub;
  private call: SessionCall | undefined;
  private endpoints: EndpointMsg[] = [];
  private readonly hosts = new Set<string>();
  private readonly backoff: Backoff;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly confirmations = new Map<string, (answer: RegisteredMsg | undefined) => void>();
  private requestCounter = 0;
  private closed = false;
  private welcomed = false;
  private welcomedAtMs = 0;
  /** The endpoints were not sent with this stream's Hello (holdRegistration): flushRegistration sends them. */
  private registrationHeld = false;
  /** Parts of an EndpointsUpdate received so far (EndpointsUpdate.more): host → its instances in order. */
  private pendingParts: Map<string, HostEndpointsMsg> | undefined;

  constructor(
    private readonly options: SessionClientOptions,
    private readonly handlers: SessionHandlers,
  ) {
    const keepalive = options.keepaliveMs ?? 10_000;
    this.client = new ControlPlaneClient(options.address, new UnrefChannelCredentials(options.credentials), {
      'grpc.keepalive_time_ms': keepalive,
      'grpc.keepalive_timeout_ms': Math.max(1000, Math.floor(keepalive / 2)),
      'grpc.keepalive_permit_without_calls': 1,
      // grpc-js's own channel backoff would otherwise grow to minutes while weftd restarts.
      'grpc.initial_reconnect_backoff_ms': options.backoffBaseMs ?? 100,
      'grpc.max_reconnect_backoff_ms': options.backoffCapMs ?? SESSION_RECONNECT_CAP_MS,
      // Set on purpose, as weftd sets its side (packages/api/src/limits.ts): weftd's first ConfigUpdate
      // is the whole stored config, which may be far over gRPC's default 4 MiB.
      'grpc.max_receive_message_length': MAX_SERVER_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_CLIENT_MESSAGE_BYTES,
    }) as unknown as SessionStub;
    this.backoff = new Backoff({ baseMs: options.backoffBaseMs ?? 100, capMs: options.backoffCapMs ?? SESSION_RECONNECT_CAP_MS });
  }

  get connected(): boolean {
    return this.call !== undefined && this.welcomed;
  }

  start(): void {
    this.open();
  }

  /**
   * Replaces the registered endpoint set (empty = deregister). Resolves when handed to the transport.
   * A set over weftd's limit is refused here and the previous set stays: weftd would end the session,
   * and every reconnect would send it again.
   */
  register(endpoints: EndpointMsg[]): Promise<void> {
    if (endpoints.length > MAX_ENDPOINTS_PER_SESSION) {
      const refused = Promise.reject(new Error(`cannot register ${endpoints.length} endpoints: a session may register at most ${MAX_ENDPOINTS_PER_SESSION} (MAX_ENDPOINTS_PER_SESSION)`));
      refused.catch(() => undefined); // a caller that does not wait for it must not crash the process
      return refused;
    }
    this.endpoints = endpoints;
    if (this.registrationHeld) return Promise.resolve(); // sent by flushRegistration once the session is proved
    return this.send({ register: { endpoints } });
  }

  /**
   * Registers `endpoints` and resolves once weftd says every caller has the change (each session the
   * update went to ACKed it), or weftd's deadline passed: for a deregistration before shutdown, so that
   * no caller still picks this workload when it stops listening. Resolves undefined at once when there
   * is no session (weftd's own grace then removes the endpoints), or when the stream breaks meanwhile.
   */
  registerAndConfirm(endpoints: EndpointMsg[], timeoutMs: number): Promise<RegisteredMsg | undefined> {
    this.endpoints = endpoints;
    const call = this.call;
    if (!call || !this.welcomed) return Promise.resolve(undefined);
    const requestId = `r${++this.requestCounter}`;
    return new Promise((resolve) => {
      this.confirmations.set(requestId, resolve);
      call.write({ register: { endpoints, requestId, confirmTimeoutMs: Math.max(1, Math.round(timeoutMs)) } });
    });
  }

  /**
   * Adds hosts (FQDNs) to the subscription; returns those that were new. Hosts beyond weftd's limit
   * per session are not subscribed (weftd would end the session, and every reconnect would send them
   * again): that is reported as an error instead.
   */
  subscribe(hosts: Iterable<string>): string[] {
    const added: string[] = [];
    let refused = 0;
    for (const h of hosts) {
      if (this.hosts.has(h)) continue;
      if (this.hosts.size >= MAX_SUBSCRIPTIONS_PER_SESSION) {
        refused++;
        continue;
      }
      this.hosts.add(h);
      added.push(h);
    }
    if (refused > 0) {
      this.handlers.error(new Error(`not subscribing ${refused} more hosts: a session may subscribe to at most ${MAX_SUBSCRIPTIONS_PER_SESSION} (MAX_SUBSCRIPTIONS_PER_SESSION), and this one has that many`));
    }
    for (const batch of batches(added)) void this.send({ subscribe: { hosts: batch } });
    return added;
  }

  /** Sends the endpoints held back from this stream's Hello (holdRegistration), now that the session can prove them. */
  flushRegistration(): void {
    const call = this.call;
    if (!call || !this.welcomed || !this.registrationHeld) return;
    this.registrationHeld = false;
    if (this.endpoints.length > 0) call.write({ register: { endpoints: this.endpoints } });
  }

  /** Sends a certificate request on the current session; false when there is none (nothing is queued). */
  requestCertificate(req: CertificateRequestMsg): boolean {
    const call = this.call;
    if (!call || !this.welcomed) return false;
    call.write({ certificateRequest: req });
    return true;
  }

  isSubscribed(host: string): boolean {
    return this.hosts.has(host);
  }

  subscribedHosts(): string[] {
    return [...this.hosts];
  }

  ack(type: UpdateType, version: string, nonce: string, error = ''): void {
    const reason = error.length > MAX_NACK_ERROR_LENGTH ? `${error.slice(0, MAX_NACK_ERROR_LENGTH)}…` : error;
    void this.send({ ack: { type, version, nonce, error: reason } });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.settleConfirmations();
    const call = this.call;
    this.call = undefined;
    if (call) {
      call.end();
      // End is a half-close; cancel after a moment so a server that never ends its side cannot keep us open.
      setTimeout(() => call.cancel(), 200).unref();
    }
    this.client.close();
  }

  private open(): void {
    if (this.closed) return;
    this.welcomed = false;
    this.pendingParts = undefined;
    const call = this.client.Session();
    this.call = call;
    call.on('data', (msg: SessionResponseMsg) => this.onMessage(call, msg));
    call.on('error', (e: grpc.ServiceError) => {
      const code = grpc.status[e.code] ?? String(e.code);
      const details = describeDetails(e);
      if (!this.welcomed && !this.closed) this.handlers.connectFailed(code, details);
      this.onBroken(call, `${code}: ${details}`);
    });
    call.on('end', () => this.onBroken(call, 'stream ended by weftd'));
    const { workload, sdkVersion } = this.options;
    // A new stream starts with a full snapshot, so deltas never span a reconnect.
    call.write({ hello: { workload, sdkVersion, resume: this.options.holdsView(), acceptsConfigDeltas: true, acceptsSplitEndpoints: true } });
    this.registrationHeld = this.endpoints.length > 0 && this.options.holdRegistration?.() === true;
    if (this.endpoints.length > 0 && !this.registrationHeld) call.write({ register: { endpoints: this.endpoints } });
    for (const batch of batches([...this.hosts])) call.write({ subscribe: { hosts: batch } });
  }

  private onMessage(call: SessionCall, msg: SessionResponseMsg): void {
    if (call !== this.call) return;
    try {
      switch (msg.kind) {
        case 'welcome':
          this.welcomed = true;
          this.welcomedAtMs = Date.now();
          this.handlers.welcome(msg.welcome);
          return;
        case 'config':
          this.handlers.config(msg.config);
          return;
        case 'endpoints': {
          const whole = this.reassemble(msg.endpoints);
          if (whole) this.handlers.endpoints(whole);
          return;
        }
        case 'certificate':
          this.handlers.certificate?.(msg.certificate);
          return;
        case 'bundle': {
          const b = msg.bundle;
          try {
            this.handlers.bundle?.(b);
            this.ack('bundle', String(b.bundleVersion), b.nonce);
          } catch (e) {
            this.ack('bundle', String(b.bundleVersion), b.nonce, (e as Error).message);
            throw e;
          }
          return;
        }
        case 'registered': {
          const resolve = this.confirmations.get(msg.registered.requestId);
          this.confirmations.delete(msg.registered.requestId);
          resolve?.(msg.registered);
          return;
        }
      }
    } catch (e) {
      this.handlers.error(e);
    }
  }

  /**
   * Joins the parts of an EndpointsUpdate (all but the last have `more`): returns the whole update when
   * its last part arrives, with that part's version and nonce (the nonce weftd expects in the ACK).
   */
  private reassemble(part: EndpointsUpdateMsg): EndpointsUpdateMsg | undefined {
    if (!part.more && !this.pendingParts) return part;
    const pending = (this.pendingParts ??= new Map<string, HostEndpointsMsg>());
    for (const h of part.hosts) {
      const held = pending.get(h.host);
      if (held) held.instances.push(...h.instances);
      else pending.set(h.host, { host: h.host, instances: [...h.instances] });
    }
    if (part.more) return undefined;
    this.pendingParts = undefined;
    return { version: part.version, nonce: part.nonce, hosts: [...pending.values()] };
  }

  private onBroken(call: SessionCall, reason: string): void {
    if (call !== this.call) return;
    this.call = undefined;
    const wasWelcomed = this.welcomed;
    this.welcomed = false;
    call.removeAllListeners('data');
    call.on('error', () => undefined); // a late error on a dead call must not become an unhandled 'error'
    call.cancel();
    this.settleConfirmations();
    if (this.closed) return;
    // Only a session that lasted restarts the backoff: one weftd ends at once (a refusal) must not
    // turn into ten reconnects a second.
    if (wasWelcomed && Date.now() - this.welcomedAtMs >= STABLE_SESSION_MS) this.backoff.reset();
    if (wasWelcomed) this.handlers.disconnected(reason);
    const delay = this.backoff.next();
    this.reconnectTimer = setTimeout(() => this.open(), delay);
    this.reconnectTimer.unref();
  }

  /** Waiting confirmations cannot come on another stream: they end unconfirmed. */
  private settleConfirmations(): void {
    const waiting = [...this.confirmations.values()];
    this.confirmations.clear();
    for (const resolve of waiting) resolve(undefined);
  }

  private send(msg: SessionRequestWire): Promise<void> {
    const call = this.call;
    if (!call) return Promise.resolve(); // re-sent from state by open() on reconnect
    return new Promise((resolve) => {
      call.write(msg, () => resolve());
    });
  }
}

/** Subscriptions go out in messages of at most SUBSCRIBE_BATCH_HOSTS hosts, each well under the message limit. */
function batches(hosts: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < hosts.length; i += SUBSCRIBE_BATCH_HOSTS) out.push(hosts.slice(i, i + SUBSCRIBE_BATCH_HOSTS));
  return out;
}

/** A failed stream's details, saying what a message over a size limit means (grpc-js says only "larger than max"). */
function describeDetails(e: grpc.ServiceError): string {
  const details = e.details || e.message;
  if (e.code !== grpc.status.RESOURCE_EXHAUSTED || !/larger than max/i.test(details)) return details;
  return (
    `a session message exceeded a size limit (${details}): this SDK accepts up to ${MAX_SERVER_MESSAGE_BYTES} bytes from weftd and sends ` +
    `up to ${MAX_CLIENT_MESSAGE_BYTES} (MAX_SERVER_MESSAGE_BYTES, MAX_CLIENT_MESSAGE_BYTES in @weft/api's limits); weftd and this SDK disagree about limits: upgrade the older one`
  );
}
