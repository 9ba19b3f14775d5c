// The workload's one session with weftd: a grpc-js bidi stream (weft.v1.ControlPlane/Session).
// It keeps what must be re-sent after a reconnect (the registered endpoints, every subscribed host)
// and re-opens the stream by itself with jittered backoff. While the stream is down nothing of the
// client's view is dropped: the mesh keeps serving with what it last heard (static stability).
import * as grpc from '@grpc/grpc-js';
import {
  ControlPlaneClient,
  type ConfigUpdateMsg,
  type EndpointMsg,
  type EndpointsUpdateMsg,
  type SessionResponseMsg,
  type UpdateType,
  type WelcomeMsg,
  type WorkloadMsg,
} from '@weft/api';
import { Backoff } from './backoff.js';
import { UnrefChannelCredentials } from './unref-credentials.js';

export interface SessionHandlers {
  welcome(msg: WelcomeMsg): void;
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
}

type SessionRequestWire =
  | { hello: { workload: WorkloadMsg; sdkVersion: string; resume: boolean; acceptsConfigDeltas: boolean } }
  | { register: { endpoints: EndpointMsg[] } }
  | { subscribe: { hosts: string[] } }
  | { ack: { type: UpdateType; version: string; nonce: string; error: string } };

type SessionCall = grpc.ClientDuplexStream<SessionRequestWire, SessionResponseMsg>;
type SessionStub = grpc.Client & { Session(options?: grpc.CallOptions): SessionCall };

export class SessionClient {
  private readonly client: SessionStub;
  private call: SessionCall | undefined;
  private endpoints: EndpointMsg[] = [];
  private readonly hosts = new Set<string>();
  private readonly backoff: Backoff;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private welcomed = false;

  constructor(
    private readonly options: SessionClientOptions,
    private readonly handlers: SessionHandlers,
  ) {
    const keepalive = options.keepaliveMs ?? 10_000;
    this.client = new ControlPlaneClient(options.address, new UnrefChannelCredentials(grpc.credentials.createInsecure()), {
      'grpc.keepalive_time_ms': keepalive,
      'grpc.keepalive_timeout_ms': Math.max(1000, Math.floor(keepalive / 2)),
      'grpc.keepalive_permit_without_calls': 1,
      // grpc-js's own channel backoff would otherwise grow to minutes while weftd restarts.
      'grpc.initial_reconnect_backoff_ms': options.backoffBaseMs ?? 100,
      'grpc.max_reconnect_backoff_ms': options.backoffCapMs ?? 5000,
    }) as unknown as SessionStub;
    this.backoff = new Backoff({ baseMs: options.backoffBaseMs ?? 100, capMs: options.backoffCapMs ?? 5000 });
  }

  get connected(): boolean {
    return this.call !== undefined && this.welcomed;
  }

  start(): void {
    this.open();
  }

  /** Replaces the registered endpoint set (empty = deregister). Resolves when handed to the transport. */
  register(endpoints: EndpointMsg[]): Promise<void> {
    this.endpoints = endpoints;
    return this.send({ register: { endpoints } });
  }

  /** Adds hosts (FQDNs) to the subscription; returns those that were new. */
  subscribe(hosts: Iterable<string>): string[] {
    const added: string[] = [];
    for (const h of hosts) {
      if (!this.hosts.has(h)) {
        this.hosts.add(h);
        added.push(h);
      }
    }
    if (added.length > 0) void this.send({ subscribe: { hosts: added } });
    return added;
  }

  isSubscribed(host: string): boolean {
    return this.hosts.has(host);
  }

  subscribedHosts(): string[] {
    return [...this.hosts];
  }

  ack(type: UpdateType, version: string, nonce: string, error = ''): void {
    void this.send({ ack: { type, version, nonce, error } });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
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
    const call = this.client.Session();
    this.call = call;
    call.on('data', (msg: SessionResponseMsg) => this.onMessage(call, msg));
    call.on('error', (e: grpc.ServiceError) => {
      const code = grpc.status[e.code] ?? String(e.code);
      if (!this.welcomed && !this.closed) this.handlers.connectFailed(code, e.details || e.message);
      this.onBroken(call, `${code}: ${e.details || e.message}`);
    });
    call.on('end', () => this.onBroken(call, 'stream ended by weftd'));
    const { workload, sdkVersion } = this.options;
    // A new stream starts with a full snapshot, so deltas never span a reconnect.
    call.write({ hello: { workload, sdkVersion, resume: this.options.holdsView(), acceptsConfigDeltas: true } });
    if (this.endpoints.length > 0) call.write({ register: { endpoints: this.endpoints } });
    if (this.hosts.size > 0) call.write({ subscribe: { hosts: [...this.hosts] } });
  }

  private onMessage(call: SessionCall, msg: SessionResponseMsg): void {
    if (call !== this.call) return;
    try {
      switch (msg.kind) {
        case 'welcome':
          this.welcomed = true;
          this.backoff.reset();
          this.handlers.welcome(msg.welcome);
          return;
        case 'config':
          this.handlers.config(msg.config);
          return;
        case 'endpoints':
          this.handlers.endpoints(msg.endpoints);
          return;
      }
    } catch (e) {
      this.handlers.error(e);
    }
  }

  private onBroken(call: SessionCall, reason: string): void {
    if (call !== this.call) return;
    this.call = undefined;
    const wasWelcomed = this.welcomed;
    this.welcomed = false;
    call.removeAllListeners('data');
    call.on('error', () => undefined); // a late error on a dead call must not become an unhandled 'error'
    call.cancel();
    if (this.closed) return;
    if (wasWelcomed) this.handlers.disconnected(reason);
    const delay = this.backoff.next();
    this.reconnectTimer = setTimeout(() => this.open(), delay);
    this.reconnectTimer.unref();
  }

  private send(msg: SessionRequestWire): Promise<void> {
    const call = this.call;
    if (!call) return Promise.resolve(); // re-sent from state by open() on reconnect
    return new Promise((resolve) => {
      call.write(msg, () => resolve());
    });
  }
}
