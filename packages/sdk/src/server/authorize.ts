// AuthorizationPolicy enforcement on a served listener: every request is decided before the handler
// sees it; a denied one gets Envoy's answer (403, `RBAC: access denied`) and the handler is never called.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { isAllowed, type WorkloadAuthorization } from '../config/workload-authorization.js';
import { forwardNormalizedPath, InboundRequest } from './inbound-request.js';

/** Envoy's RBAC filter's body for a denied request, which Istio users and tools recognise. */
export const ACCESS_DENIED_BODY = 'RBAC: access denied';

function deny(res: http.ServerResponse): void {
  res.writeHead(403, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(ACCESS_DENIED_BODY) });
  res.end(ACCESS_DENIED_BODY);
}

/**
 * Wraps `listener` so that the policies in force (read per request: a config change applies to the
 * next request) decide first. With no policy for this workload, the request goes straight through.
 */
export function authorizingListener(listener: http.RequestListener, current: () => WorkloadAuthorization): http.RequestListener {
  return (req, res) => {
    const authz = current();
    if (authz.sources.length === 0) {
      listener(req, res);
      return;
    }
    if (!isAllowed(authz, new InboundRequest(req))) {
      deny(res);
      return;
    }
    forwardNormalizedPath(req);
    listener(req, res);
  };
}

/**
 * Requests that never reach the request listener (`Upgrade: websocket` and `CONNECT`: Node hands
 * them to the server's 'upgrade' and 'connect' listeners with the raw socket; `Expect:` requests
 * when the application listens for 'checkContinue' or 'checkExpectation') are decided too,
 * before any listener the application added sees them, as Envoy applies RBAC to an upgrade request.
 * A denied one is answered with the same 403 on the socket, which is then closed.
 */
export function authorizeUpgrades(server: http.Server, current: () => WorkloadAuthorization): void {
  const emit = server.emit;
  server.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]): boolean {
    if ((event === 'checkContinue' || event === 'checkExpectation') && this.listenerCount(event) > 0) {
      // With such a listener, Node emits this event instead of 'request' for `Expect:` requests.
      const [req, res] = args as [http.IncomingMessage, http.ServerResponse];
      const authz = current();
      if (authz.sources.length > 0) {
        if (!isAllowed(authz, new InboundRequest(req))) {
          deny(res);
          return true;
        }
        forwardNormalizedPath(req);
      }
    } else if (event === 'upgrade' || event === 'connect') {
      const [req, socket] = args as [http.IncomingMessage, Duplex];
      const authz = current();
      if (authz.sources.length > 0) {
        if (!isAllowed(authz, new InboundRequest(req))) {
          socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(ACCESS_DENIED_BODY)}\r\nconnection: close\r\n\r\n${ACCESS_DENIED_BODY}`);
          return true;
        }
        // A CONNECT target is an authority (host:port), not a path to rewrite.
        if (event === 'upgrade') forwardNormalizedPath(req);
      }
    }
    return Reflect.apply(emit, this, [event, ...args]) as boolean;
  } as typeof server.emit;
}
