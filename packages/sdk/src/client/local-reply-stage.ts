// Local-reply stage: a VirtualService route with `redirect` or `directResponse` is answered here, in the
// calling workload, as Envoy's router answers it in the sidecar; nothing is sent, no endpoint is
// picked, and the stages below (fault, mirror, timeout, retry, ...) never run for it (Istio allows none of
// them with a redirect or a direct response).
// - redirect: the rule's code (301 by default) with a Location built from the request as the caller sent
//   it (route-actions.ts redirectLocation: Envoy's newUri) and no body; mesh.fetch then follows it as
//   fetch does (fetch-edge.ts), through the whole pipeline again; mesh.request returns it;
// - directResponse: the rule's status and body; `content-type: text/plain` when there is a body, as
//   Envoy's local replies have;
// then the route's response header operations (Envoy applies them to direct responses too).
// Envoy logs no response flag for either, so the call's record gets none.
import { applyHeaderPasses, redirectLocation, type LocalAnswer, type RouteActions } from '../config/route-actions.js';
import { localResponse } from './local-response.js';
import type { Layer, OutboundRequest, OutboundResponse } from './pipeline.js';

const NO_BODY: Uint8Array = new Uint8Array(0);

export function localReplyStage(): Layer {
  return (next) => (req) => {
    const actions = req.route?.actions;
    if (actions?.answer === undefined) return next(req);
    return Promise.resolve(answer(req, actions.answer, actions));
  };
}

function answer(req: OutboundRequest, a: LocalAnswer, actions: RouteActions): OutboundResponse {
  const headers: Record<string, string | string[] | undefined> = Object.create(null) as Record<string, string | string[] | undefined>;
  let body = NO_BODY;
  if (a.kind === 'redirect') {
    const host = req.headers.host;
    headers.location = redirectLocation(a, typeof host === 'string' ? host : req.target.authority, req.target.servicePort, req.target.path);
  } else {
    body = a.body;
    if (body.length > 0) headers['content-type'] = 'text/plain';
  }
  headers['content-length'] = String(body.length);
  applyHeaderPasses(headers, actions.responseHeaders);
  return localResponse(a.status, headers, body);
}
