// The caller's verified identity, kept per connection: an mTLS connection's client certificate was
// checked once, at the handshake, and every request on it carries the same identity.
import type http from 'node:http';
import type { Socket } from 'node:net';
import type { SpiffeId } from '@weft/ca';

export interface PeerIdentity {
  /** Istio's principal form `<trust domain>/ns/<ns>/sa/<sa>`, what AuthorizationPolicy `principals` match. */
  readonly principal: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** `spiffe://<trust domain>/ns/<ns>/sa/<sa>` */
  readonly spiffeId: string;
}

const peers = new WeakMap<Socket, PeerIdentity>();

export function recordPeer(socket: Socket, id: SpiffeId): void {
  peers.set(socket, Object.freeze({ principal: id.principal, namespace: id.namespace, serviceAccount: id.serviceAccount, spiffeId: id.uri }));
}

/** The verified identity of the caller that sent `req`, or null for a plaintext connection. */
export function peerOf(req: http.IncomingMessage): PeerIdentity | null {
  return peers.get(req.socket) ?? null;
}
