// What an AuthorizationPolicy can ask of an inbound request. The server side (server/inbound-request.ts)
// computes each attribute when a matcher first asks for it, so a policy that reads only the method
// costs no path slicing or address parsing.
import type { IncomingHttpHeaders } from 'node:http';

export interface AuthorizationRequest {
  /** As the client sent it (Node gives it upper case for known methods). */
  readonly method: string;
  /** The normalized path without the query string: what `paths` and `notPaths` match. */
  readonly path: string;
  /** The Host header in lower case, with its port if it had one ('' when absent). */
  readonly host: string;
  /** The Host header without its port (equal to `host` when it had none). */
  readonly hostWithoutPort: string;
  /** The port the connection arrived on (Istio's destination.port: the workload's port, not the service's). */
  readonly destinationPort: number;
  /** The caller's address as 16 bytes (IPv4 mapped), or undefined when the socket has none. */
  readonly sourceIp: Uint8Array | undefined;
  readonly headers: IncomingHttpHeaders;
  /**
   * The caller's verified identity `<trust domain>/ns/<ns>/sa/<sa>` and namespace, from its client
   * certificate. Undefined for a plaintext request.
   */
  readonly principal: string | undefined;
  readonly namespace: string | undefined;
}

export type RequestPredicate = (req: AuthorizationRequest) => boolean;
