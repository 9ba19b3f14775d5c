// The state weftd keeps per Session stream: who is on the other end, what it subscribed to, and
// what was sent, ACKed and NACKed for each update type.
import { randomBytes } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { MAX_NACK_ERROR_LENGTH, type AckMsg, type SessionRequestMsg, type SessionResponseMsg, type UpdateType } from '@weft/api';
import { NackLog } from './nack-log.js';

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
  bundle: UpdateState;
  /** The SPIFFE ID the session proved ('' when none: it may not register endpoints). */
  identity: string;
}

/** Pre-serialized SessionResponse bytes (written as is) or a message to serialize. */
export type SessionCall = grpc.ServerDuplexStream<SessionRequestMsg, SessionResponseMsg | Buffer>;

/** What an ACK or NACK means for weftd. */
export interface AckOutcome {
  /** Lines to log: a NACK the first time it is seen (within the session's log budget), and summaries. */
  logs: string[];
  /** A config delta was NACKed and no full snapshot has been sent since: send one now. */
  resendFullConfig: boolean;
  /** The update this ACK or NACK answered (undefined: an unknown nonce, ignored). */
  answered?: { type: UpdateType; version: string };
}

interface SentUpdate {
  type: UpdateType;
  version: string;
  delta: boolean;
  /** Order of this write among the session's writes. */
  seq: number;
}

/** How many recent nonces a session remembers for matching ACKs (older ACKs are ignored). */
const REMEMBERED_NONCES = 64;

export class Session {
  instanceId = '';
  service = '';
  namespace = '';
  serviceAccount = '';
  /** Random per session, sent in the Welcome: what a certificate renewal's proof signs. */
  readonly challenge = randomBytes(24).toString('base64url');
  /** The SPIFFE ID this session proved (join token or current certificate), once it has. */
  provenSpiffeId = '';
  readonly subscriptions = new Set<string>();
  /** Resumed during weftd's warmup: endpoint updates wait until the registry has settled. */
  heldForWarmup = false;
  closed = false;
  /** Said in Hello: the client applies delta ConfigUpdates. */
  acceptsConfigDeltas = false;
  /** Said in Hello: the client reassembles EndpointsUpdates sent in parts. */
  acceptsSplitEndpoints = false;
  readonly config: UpdateState = { sentVersion: '', ackedVersion: '', nack: null };
  readonly endpoints: UpdateState = { sentVersion: '', ackedVersion: '', nack: null };
  /** Trust bundle pushes (root rotation); the Welcome's bundle counts as sent and acked. */
  readonly bundle: UpdateState = { sentVersion: '', ackedVersion: '', nack: null };
  private readonly sentNonces = new Map<string, SentUpdate>();
  private readonly nackLog = new NackLog();
  private writes = 0;
  /** seq of the last full config snapshot written (-1: none yet). */
  private lastFullConfigSeq = -1;

  constructor(
    readonly id: string,
    readonly call: SessionCall,
    readonly peer: string,
    readonly connectedAtMs: number,
  ) {}

  get helloReceived(): boolean {
    return this.instanceId !== '';
  }

  /**
   * Writes an update (serialized once for all sessions that get the same bytes) and remembers its nonce.
   * `delta` marks a config delta, whose NACK asks for a full snapshot.
   */
  sendUpdate(type: UpdateType, version: string, nonce: string, bytes: Buffer, delta = false): void {
    if (this.closed) return;
    this.call.write(bytes);
    const seq = this.writes++;
    this[type].sentVersion = version;
    if (type === 'config' && !delta) this.lastFullConfigSeq = seq;
    this.sentNonces.set(nonce, { type, version, delta, seq });
    if (this.sentNonces.size > REMEMBERED_NONCES) this.sentNonces.delete(this.sentNonces.keys().next().value!);
  }

  /** Records an ACK or NACK and says what to do about it. */
  recordAck(ack: AckMsg): AckOutcome {
    const sent = this.sentNonces.get(ack.nonce);
    if (!sent || sent.type !== ack.type) return { logs: [], resendFullConfig: false }; // unknown nonce: a stale or foreign ACK
    const state = this[sent.type];
    const answered = { type: sent.type, version: sent.version };
    if (!ack.error) {
      state.ackedVersion = sent.version;
      return { logs: [], resendFullConfig: false, answered };
    }
    const error = ack.error.length > MAX_NACK_ERROR_LENGTH ? `${ack.error.slice(0, MAX_NACK_ERROR_LENGTH)}… (cut at ${MAX_NACK_ERROR_LENGTH} of ${ack.error.length} characters)` : ack.error;
    state.nack = { version: sent.version, error };
    // The client may hold another base than weftd thinks; a full snapshot puts it right. Only once per
    // NACKed delta, and never for a NACKed full snapshot, so a config the client cannot apply is not
    // sent over and over.
    const resendFullConfig = sent.type === 'config' && sent.delta && this.lastFullConfigSeq < sent.seq;
    const key = `${sent.type}\0${sent.version}\0${error}`;
    const lines = this.nackLog.record(key, () => `NACKed ${sent.type} version ${sent.version}${sent.delta ? ' (a delta)' : ''}: ${JSON.stringify(error)}`);
    return { logs: lines.map((l) => `${this.describe()} ${l}`), resendFullConfig, answered };
  }

  /** The summary of NACKs not logged yet, for when the session ends (undefined: none). */
  nackSummary(): string | undefined {
    const summary = this.nackLog.summary();
    return summary && `${this.describe()} ${summary}`;
  }

  private describe(): string {
    return `session ${this.id} (${this.instanceId}, ${this.service}.${this.namespace})`;
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
      bundle: { ...this.bundle },
      identity: this.provenSpiffeId,
    };
  }
}
