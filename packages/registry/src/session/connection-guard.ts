// weftd's own TCP listener in front of grpc-js (Server.createConnectionInjector): grpc-js alone keeps
// every connection for as long as the peer likes, so 1000 silent sockets or 2000 streams that never
// said Hello stayed open for good. The guard decides about each socket before grpc-js sees it:
//  - a connection must carry a session that said Hello within the handshake timeout (again each time
//    its last such session ends), or it is closed; one with streams still open then gets one more
//    timeout, so that those streams end first with their own status (no Hello in time);
//  - one peer address may hold at most `maxConnectionsPerPeer` connections; a connection beyond that
//    is still handed to grpc-js, briefly, so that its streams are refused with a status naming the
//    limit (a few per address; beyond those the socket is closed at once);
//  - one connection may carry at most `maxStreamsPerConnection` session streams.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ConnectionLimits {
  handshakeTimeoutMs: number;
  maxConnectionsPerPeer: number;
  maxStreamsPerConnection: number;
}

/** A connection as the session server sees it (from call.getPeer()). */
export interface Connection {
  readonly key: string;
  readonly peerAddress: string;
  /** Session streams open on it. */
  streams: number;
  /** Of those, sessions that said Hello. */
  greeted: number;
  /** Set when the connection is over its peer's limit: every stream on it is refused with this. */
  readonly refusal: string | undefined;
}

interface TrackedConnection extends Connection {
  socket: net.Socket;
  deadline: NodeJS.Timeout | undefined;
  /** The deadline was extended once for open streams since the connection last had a greeted session. */
  extended: boolean;
}

/** Over-limit connections per address kept just long enough to refuse their streams with a message. */
const REFUSING_CONNECTIONS_PER_PEER = 8;
/** How long such a connection stays before it is closed. */
const REFUSING_CONNECTION_MS = 1000;
/** Refused connections are logged in one line per interval at most. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;

export class ConnectionGuard {
  private readonly server: net.Server;
  private readonly connections = new Map<string, TrackedConnection>();
  /** Accepted connections per peer address (those within the limit). */
  private readonly perPeer = new Map<string, number>();
  /** Over-limit connections per peer address, while they are being refused. */
  private readonly refusingPerPeer = new Map<string, number>();
  private refusedSinceLog = 0;
  private lastRefusalLogMs = -Infinity;

  constructor(
    private readonly limits: ConnectionLimits,
    inject: (socket: net.Socket) => void,
    private readonly log: (message: string) => void,
  ) {
    this.server = net.createServer({ noDelay: true }, (socket) => this.accept(socket, inject));
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

  /** The connection a stream arrived on (by `call.getPeer()`), or undefined if it is not known. */
  find(peer: string): Connection | undefined {
    return this.connections.get(peer);
  }

  /** A session stream opened on `conn`: the reason to refuse it, or undefined (then it is counted). */
  streamOpened(conn: Connection): string | undefined {
    if (conn.refusal) return conn.refusal;
    if (conn.streams >= this.limits.maxStreamsPerConnection) {
      return `this connection already carries ${conn.streams} session streams, the most weftd allows on one connection (--max-streams-per-connection ${this.limits.maxStreamsPerConnection})`;
    }
    conn.streams++;
    return undefined;
  }

  /** A session on `conn` said Hello: the connection has done its handshake. */
  greeted(conn: Connection): void {
    const c = conn as TrackedConnection;
    c.greeted++;
    c.extended = false;
    clearTimeout(c.deadline);
    c.deadline = undefined;
  }

  /** A counted stream on `conn` ended; `hadHello` if its session had said Hello. */
  streamClosed(conn: Connection, hadHello: boolean): void {
    const c = conn as TrackedConnection;
    c.streams = Math.max(0, c.streams - 1);
    if (hadHello) c.greeted = Math.max(0, c.greeted - 1);
    if (c.greeted === 0 && c.deadline === undefined && this.connections.get(c.key) === c) this.armDeadline(c, this.limits.handshakeTimeoutMs);
  }

  sizes(): { connections: number; peers: number } {
    return { connections: this.connections.size, peers: this.perPeer.size + this.refusingPerPeer.size };
  }

  /** Stops listening and closes every connection still open after `graceMs`. */
  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const force = setTimeout(() => {
      for (const c of this.connections.values()) c.socket.destroy();
    }, graceMs);
    force.unref();
    if (this.connections.size === 0) clearTimeout(force);
    await closed;
    clearTimeout(force);
  }

  private accept(socket: net.Socket, inject: (socket: net.Socket) => void): void {
    socket.on('error', () => undefined); // a reset by the peer is its business, never weftd's crash
    const peerAddress = socket.remoteAddress ?? 'unknown';
    const key = `${peerAddress}:${socket.remotePort ?? ''}`;
    const count = this.perPeer.get(peerAddress) ?? 0;
    let refusal: string | undefined;
    if (count >= this.limits.maxConnectionsPerPeer) {
      this.noteRefusal(peerAddress, count);
      const refusing = this.refusingPerPeer.get(peerAddress) ?? 0;
      if (refusing >= REFUSING_CONNECTIONS_PER_PEER) {
        socket.destroy();
        return;
      }
      this.refusingPerPeer.set(peerAddress, refusing + 1);
      refusal = `${peerAddress} already holds ${count} connections to weftd, the most it allows from one address (--max-connections-per-peer ${this.limits.maxConnectionsPerPeer}); close some, or raise the limit`;
    } else {
      this.perPeer.set(peerAddress, count + 1);
    }
    const conn: TrackedConnection = { key, peerAddress, streams: 0, greeted: 0, refusal, socket, deadline: undefined, extended: false };
    this.connections.set(key, conn);
    socket.once('close', () => this.forget(conn));
    this.armDeadline(conn, refusal ? Math.min(REFUSING_CONNECTION_MS, this.limits.handshakeTimeoutMs) : this.limits.handshakeTimeoutMs);
    inject(socket);
  }

  private noteRefusal(peerAddress: string, count: number): void {
    this.refusedSinceLog++;
    const now = Date.now();
    if (now - this.lastRefusalLogMs < REFUSAL_LOG_INTERVAL_MS) return;
    this.log(
      `refused ${this.refusedSinceLog} connection${this.refusedSinceLog === 1 ? '' : 's'} over the per-address limit (--max-connections-per-peer ${this.limits.maxConnectionsPerPeer}); the latest from ${peerAddress}, which holds ${count}`,
    );
    this.refusedSinceLog = 0;
    this.lastRefusalLogMs = now;
  }

  private armDeadline(conn: TrackedConnection, ms: number): void {
    conn.deadline = setTimeout(() => {
      conn.deadline = undefined;
      if (conn.greeted > 0) return;
      if (conn.streams > 0 && !conn.extended && !conn.refusal) {
        conn.extended = true;
        this.armDeadline(conn, ms);
        return;
      }
      conn.socket.destroy();
    }, ms);
    conn.deadline.unref();
  }

  private forget(conn: TrackedConnection): void {
    clearTimeout(conn.deadline);
    if (this.connections.get(conn.key) === conn) this.connections.delete(conn.key);
    const table = conn.refusal ? this.refusingPerPeer : this.perPeer;
    const left = (table.get(conn.peerAddress) ?? 1) - 1;
    if (left > 0) table.set(conn.peerAddress, left);
    else table.delete(conn.peerAddress);
  }
}
