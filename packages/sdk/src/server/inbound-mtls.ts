// mTLS termination on a served port, with Istio's PERMISSIVE protocol sniffing: the first byte of each
// connection says what it is (0x16 opens a TLS handshake record, a ClientHello; an HTTP request starts
// with a method's letter), so one port serves both. A TLS connection must present a client certificate
// that chains to the trust bundle and names a SPIFFE ID of the mesh's trust domain; its identity is then
// kept for every request on it (peer-identity.ts). The mode (STRICT / PERMISSIVE / DISABLE, from
// PeerAuthentication) is read per connection, and so is the TLS material: a renewed certificate serves
// the next handshake, with no restart and nothing in flight cut.
import type http from 'node:http';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { verifyPeer } from '@weft/ca';
import type { TlsMaterial } from '../identity/tls-material.js';
import { peerOf, recordPeer } from './peer-identity.js';

export type InboundMtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** Why a connection was closed before HTTP saw it. */
export interface InboundRefusal {
  reason: 'PLAINTEXT_IN_STRICT' | 'TLS_IN_DISABLE' | 'TLS_WITHOUT_IDENTITY' | 'BAD_CLIENT_CERTIFICATE' | 'HANDSHAKE_FAILED' | 'NO_FIRST_BYTE';
  message: string;
  remoteAddress: string;
  port: number;
}

export interface InboundMtlsOptions {
  /** The workload's current TLS material; null without an identity (plaintext only). */
  material(): TlsMaterial | null;
  /** The mode in force for the port a connection arrived on (the workload's listening port). */
  mode(port: number): InboundMtlsMode;
  refused(r: InboundRefusal): void;
  /** A connection that sends nothing (neither TLS nor HTTP) is closed after this. Default 10 s. */
  firstByteTimeoutMs?: number;
}

const TLS_HANDSHAKE_RECORD = 0x16;

/** Connections still being sniffed or handshaken, per server: drain() closes them (HTTP does not know them). */
const undecided = new WeakMap<http.Server, Set<Socket>>();

export function destroyUndecided(server: http.Server): void {
  for (const s of undecided.get(server) ?? []) s.destroy();
}

/**
 * Puts the sniffer in front of `server`'s own connection handling: plaintext goes to it as it came,
 * TLS goes to it as the decrypted TLSSocket once the client certificate is verified.
 */
export function acceptMtls(server: http.Server, opts: InboundMtlsOptions): void {
  const handleHttp = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  const pending = new Set<Socket>();
  undecided.set(server, pending);
  const toHttp = (socket: Socket): void => {
    for (const l of handleHttp) l.call(server, socket);
  };
  const timeoutMs = opts.firstByteTimeoutMs ?? 10_000;

  server.on('connection', (socket: Socket) => {
    pending.add(socket);
    const port = socket.localPort ?? 0;
    const refuse = (reason: InboundRefusal['reason'], message: string, s: Socket = socket): void => {
      pending.delete(socket);
      clearTimeout(timer);
      opts.refused({ reason, message, remoteAddress: socket.remoteAddress ?? '', port });
      s.destroy();
    };
    const timer = setTimeout(() => refuse('NO_FIRST_BYTE', `no TLS handshake or HTTP request within ${timeoutMs} ms`), timeoutMs);
    timer.unref();
    const onEarlyError = (): void => {
      pending.delete(socket);
      clearTimeout(timer);
      socket.destroy();
    };
    socket.on('error', onEarlyError);
    // http.Server allows half-open sockets: one that ends before its first byte would wait out the timer.
    const onEarlyEnd = (): void => onEarlyError();
    socket.once('end', onEarlyEnd);
    socket.once('data', (chunk: Buffer) => {
      socket.off('end', onEarlyEnd);
      socket.pause();
      socket.unshift(chunk);
      const mode = opts.mode(port);
      if (chunk[0] !== TLS_HANDSHAKE_RECORD) {
        if (mode === 'STRICT') {
          // Without a certificate this workload cannot serve mTLS either: STRICT then serves no one,
          // which is safer than serving plaintext under a policy that promises it never does.
          const why = opts.material() ? '' : '; this workload has no certificate, so it serves no one: start it with a join token (WEFT_TOKEN)';
          return refuse('PLAINTEXT_IN_STRICT', `plaintext connection refused: PeerAuthentication mode STRICT on port ${port} requires mTLS${why}`);
        }
        pending.delete(socket);
        clearTimeout(timer);
        socket.off('error', onEarlyError);
        toHttp(socket);
        socket.resume();
        return;
      }
      if (mode === 'DISABLE') return refuse('TLS_IN_DISABLE', `TLS connection refused: PeerAuthentication mode DISABLE on port ${port} serves plaintext only`);
      const material = opts.material();
      if (!material) return refuse('TLS_WITHOUT_IDENTITY', 'TLS connection refused: this workload has no certificate (start the mesh with a join token to serve mTLS)');
      const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: material.serverContext, requestCert: true, rejectUnauthorized: false });
      const onHandshakeError = (e: Error): void => refuse('HANDSHAKE_FAILED', `TLS handshake failed: ${e.message}`, secure);
      secure.on('error', onHandshakeError);
      secure.once('secure', () => {
        const chain = peerChain(secure);
        const verdict = verifyPeer(chain, material.bundle);
        if (!verdict.ok) return refuse('BAD_CLIENT_CERTIFICATE', `mTLS connection refused: ${verdict.reason}: ${verdict.message}`, secure);
        pending.delete(socket);
        clearTimeout(timer);
        secure.off('error', onHandshakeError);
        socket.off('error', onEarlyError);
        recordPeer(secure, verdict.id);
        toHttp(secure);
      });
    });
  });
}

/** The events by which Node hands a request (and its connection) to the application. */
const REQUEST_EVENTS = new Set(['request', 'checkContinue', 'checkExpectation', 'upgrade', 'connect']);

/**
 * A plaintext keep-alive connection accepted under PERMISSIVE outlives a change to STRICT: each of its
 * requests is checked too, and the first one after the change closes it (as Envoy drains the
 * connections of a listener whose config changed), so STRICT does not wait for callers to reconnect.
 * Installed after every other wrapper of `emit`, so it decides first.
 */
export function refusePlaintextRequestsInStrict(server: http.Server, opts: Pick<InboundMtlsOptions, 'mode' | 'refused'>): void {
  const emit = server.emit;
  server.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]): boolean {
    if (typeof event === 'string' && REQUEST_EVENTS.has(event)) {
      const req = args[0] as http.IncomingMessage;
      const socket = req.socket;
      const port = socket.localPort ?? 0;
      if (peerOf(req) === null && opts.mode(port) === 'STRICT') {
        opts.refused({ reason: 'PLAINTEXT_IN_STRICT', message: `plaintext request refused: PeerAuthentication mode STRICT on port ${port} requires mTLS`, remoteAddress: socket.remoteAddress ?? '', port });
        socket.destroy();
        return true;
      }
    }
    return Reflect.apply(emit, this, [event, ...args]) as boolean;
  } as typeof server.emit;
}

/** The client's certificates, leaf first, as it sent them. */
function peerChain(socket: tls.TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  let cert = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | Record<string, never>;
  while (cert && 'raw' in cert && cert.raw && chain.length < 10) {
    chain.push(cert.raw);
    if (cert.issuerCertificate === cert) break;
    cert = cert.issuerCertificate;
  }
  return chain;
}
