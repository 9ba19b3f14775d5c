// Route stage: picks the RouteDecision of a request from the compiled VirtualService of its host.
// First http route whose match blocks accept the request wins (OR across blocks, AND within one);
// among its destinations one random draw against precomputed cumulative weights. The block that
// matched is kept on the request (req.routeMatch): a `rewrite.uri` replaces what it matched.
import type { CompiledConfig, CompiledMatch, CompiledRoute, HostRoutes, RouteDecision } from '../config/compiled.js';
import { conditionsHold, type SourceWorkload } from '../config/match-conditions.js';
import { WeftError } from '../errors.js';
import type { Layer, OutboundHeaders, OutboundRequest } from './pipeline.js';

declare module './pipeline.js' {
  interface OutboundRequest {
    /** The match block of the route that matched (set by the route stage); undefined when the route has none. */
    routeMatch?: CompiledMatch;
  }
}

export interface RouteStageDeps {
  /** The config in force now (swapped atomically on each applied update). */
  config(): CompiledConfig;
  /** This workload, for sourceLabels and sourceNamespace; absent: a workload without labels in no namespace. */
  source?: SourceWorkload;
}

const NO_SOURCE: SourceWorkload = Object.freeze({ namespace: '', labels: Object.freeze({}) });

export function routeStage(deps: RouteStageDeps): Layer {
  // Decisions for hosts without a VirtualService: one immutable object per host, reused.
  const defaults = new Map<string, RouteDecision>();
  const defaultDecision = (host: string): RouteDecision => {
    let d = defaults.get(host);
    if (!d) {
      d = { host, subset: undefined, port: undefined, routeName: 'default' };
      defaults.set(host, d);
    }
    return d;
  };
  const source = deps.source ?? NO_SOURCE;
  return (next) => (req) => {
    if (!req.external) {
      const table = deps.config().routes.get(req.target.fqdn);
      if (table === undefined) req.route = defaultDecision(req.target.fqdn);
      else {
        const decision = selectRoute(table, req, source);
        if (decision === undefined) {
          return Promise.reject(new WeftError('NO_ROUTE', `no route matched ${req.method} ${req.target.path} for ${req.target.fqdn} (VirtualService ${table.source})`));
        }
        req.route = decision;
      }
    }
    return next(req);
  };
}

/**
 * The destination for a request, or undefined when no route of the VirtualService matches; sets
 * req.routeMatch to the block that matched. `source` is the calling workload (sourceLabels, sourceNamespace).
 */
export function selectRoute(table: HostRoutes, req: OutboundRequest, source: SourceWorkload = NO_SOURCE): RouteDecision | undefined {
  const routes = table.routes;
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i]!;
    const matches = route.matches;
    if (matches.length === 0) {
      req.routeMatch = undefined;
      return pickWeighted(route);
    }
    for (let j = 0; j < matches.length; j++) {
      if (blockMatches(matches[j]!, req, source)) {
        req.routeMatch = matches[j]!;
        return pickWeighted(route);
      }
    }
  }
  return undefined;
}

function blockMatches(m: CompiledMatch, req: OutboundRequest, source: SourceWorkload): boolean {
  if (m.uri !== undefined && !m.uri(req.target.pathname)) return false;
  if (m.method !== undefined && !m.method(req.method)) return false;
  if (m.port !== undefined && m.port !== (req.target.servicePort ?? 80)) return false;
  const headers = m.headers;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    const value = headerValue(req.headers, h.name);
    if (value === undefined) return false;
    if (h.test !== undefined && !h.test(value)) return false;
  }
  // queryParams, withoutHeaders, sourceLabels, sourceNamespace (absent on most blocks).
  if (m.more !== undefined && !conditionsHold(m.more, req.headers, req.target.path, source)) return false;
  return true;
}

function headerValue(headers: OutboundHeaders, name: string): string | undefined {
  // Own properties only: a rule may match a header named `constructor` or `toString`.
  const v = Object.hasOwn(headers, name) ? headers[name] : undefined;
  return v === undefined ? undefined : typeof v === 'string' ? v : v.join(',');
}

function pickWeighted(route: CompiledRoute): RouteDecision {
  const dests = route.destinations;
  if (dests.length === 1) return dests[0]!;
  const r = Math.random() * route.totalWeight;
  const cumulative = route.cumulativeWeights;
  for (let i = 0; i < cumulative.length; i++) if (r < cumulative[i]!) return dests[i]!;
  return dests[dests.length - 1]!;
}
