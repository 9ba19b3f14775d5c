// AuthorizationPolicy enforcement on a served listener: every request is decided before the handler
// sees it; a denied one gets Envoy's answer (403, `RBAC: access denied`) and the handler is never called.
import type http from 'node:http';
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
