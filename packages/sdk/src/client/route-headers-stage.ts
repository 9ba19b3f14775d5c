// Route-headers stage: what a VirtualService route does to the request it sends and to the response the
// caller sees, where Envoy's router does it — after the route is chosen and before anything is sent, so
// that every attempt and every mirrored copy carries it, and on the response when it comes back:
// - request: the header passes (Istio's headers.request, the route's and the destination's, in Envoy's
//   order), then the authority rewrite (rewrite.authority, or a host set by the headers), then the path
//   rewrite (rewrite.uri replaces what the matching block matched; uriRegexRewrite every match in the
//   path; the query is kept);
// - response: the header passes of headers.response, on the answer the caller gets (after retries).
// The caller's header record is copied before it is changed (mesh.fetch sends it again when it follows a
// redirect); a rewritten path is a new Target. Routes without any of these cost one property read.
// A failure (WeftError) has no headers to change: Envoy's local replies for failures are made at the edge.
import { applyHeaderPasses, rewritePath, type RouteActions } from '../config/route-actions.js';
import type { Layer, OutboundHeaders, OutboundRequest } from './pipeline.js';

export function routeHeadersStage(): Layer {
  return (next) => (req) => {
    const actions = req.route?.actions;
    if (actions === undefined) return next(req);
    changeRequest(req, actions);
    const passes = actions.responseHeaders;
    if (passes.length === 0) return next(req);
    return next(req).then((res) => {
      applyHeaderPasses(res.headers, passes);
      return res;
    });
  };
}

function changeRequest(req: OutboundRequest, actions: RouteActions): void {
  if (actions.requestHeaders.length > 0 || actions.authority !== undefined) {
    // No prototype, as the edges make it: a header named like an Object.prototype member is a plain header.
    const headers = Object.assign(Object.create(null) as OutboundHeaders, req.headers);
    applyHeaderPasses(headers, actions.requestHeaders);
    if (actions.authority !== undefined) headers.host = actions.authority;
    req.headers = headers;
  }
  const rewrite = actions.rewrite;
  if (rewrite !== undefined) {
    const t = req.target;
    const path = rewritePath(t.path, t.pathname, req.routeMatch?.rewriteLength ?? 1, rewrite);
    const q = path.indexOf('?');
    req.target = { ...t, path, pathname: q < 0 ? path : path.slice(0, q) };
  }
}
