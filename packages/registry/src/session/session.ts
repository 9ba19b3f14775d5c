// The state weftd keeps per Session stream: who is on the other end, what it subscribed to, and
// what was sent, ACKed and NACKed for each update type.
import type * as grpc from '@grpc/grpc-js';
import type { AckMsg, SessionRequestMsg, SessionResponseMsg, UpdateType } from '@weft/api';

export interface NackInfo {
  version: string;
  error: string;
}

export interface UpdateState {
  sentVersion: string;
  ackedVersion: string;
  nack: NackInfo | null;
}

export interface SessionInfo {
  id: string;
  instanceId: string;
  service: string;
  namespace: string;
  peer: string;
  connectedAtMs: number;
  subscriptions: string[];
  config: UpdateState;
  endpoints: UpdateState;
}

/** Pre-serialized SessionResponse bytes (written as is) or a message to serialize. */
export type SessionCall = grpc.ServerDuplexStream<SessionRequestMsg, SessionResponseMsg | Buffer>;

/** How many recent nonces a session remembers for matching ACKs (older ACKs are ignored). */
const REMEMBERED_NONCES = 64;

export class Session {
  instanceId = '';
  service = '';
  namespace = '';
  readonly subscriptions = new Set<string>();
  /** Resumed during weftd's warmup: endpoint updates wait until the registry has settled. */
  heldForWarmup = false;
  closed = false;
  readonly config: UpdateState = { sentVersion: '', ackedVersion: '', nack: null };
  readonly endpoints: UpdateState = { sentVersion: '', ackedVersion: '', nack: null };
  private readonly sentNonces = new Map<string, { type: UpdateType; version: string }>();
  private readonly loggedNacks = new Set<string>();

  constructor(
    readonly id: string,
    readonly call: SessionCall,
    readonly peer: string,
    readonly connectedAtMs: number,
  ) {}

  get helloReceived(): boolean {
    return this.instanceId !== '';
  }

  /** Writes an update (serialized once for all sessions that get the same bytes) and remembers its nonce. */
  sendUpdate(type: UpdateType, version: string, nonce: string, bytes: Buffer): void {
    if (this.closed) return;
    this.call.write(bytes);
    this[type].sentVersion = version;
    this.sentNonces.set(nonce, { type, version });
    if (this.sentNonces.size > REMEMBERED_NONCES) this.sentNonces.delete(this.sentNonces.keys().next().value!);
  }

  /** Records an ACK or NACK; returns the NACK text to log the first time it is seen, else undefined. */
  recordAck(ack: AckMsg): string | undefined {
    const sent = this.sentNonces.get(ack.nonce);
    if (!sent || sent.type !== ack.type) return undefined; // unknown nonce: a stale or foreign ACK
    const state = this[sent.type];
    if (!ack.error) {
      state.ackedVersion = sent.version;
      return undefined;
    }
    state.nack = { version: sent.version, error: ack.error };
    const key = `${sent.type}\0${sent.version}\0${ack.error}`;
    if (this.loggedNacks.has(key)) return undefined;
    this.loggedNacks.add(key);
    return `session ${this.id} (${this.instanceId}, ${this.service}.${this.namespace}) NACKed ${sent.type} version ${sent.version}: ${ack.error}`;
  }

  info(): SessionInfo {
    return {
      id: this.id,
      instanceId: this.instanceId,
      service: this.service,
      namespace: this.namespace,
      peer: this.peer,
      connectedAtMs: this.connectedAtMs,
      subscriptions: [...this.subscriptions].sort(),
      config: { ...this.config },
      endpoints: { ...this.endpoints },
    };
  }
}
