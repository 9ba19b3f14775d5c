// Route stage: picks the RouteDecision of a request from the compiled VirtualService of its host.
// First http route whose match blocks accept the request wins (OR across blocks, AND within one);
// among its destinations one random draw against precomputed cumulative weights.
import type { CompiledConfig, CompiledMatch, CompiledRoute, HostRoutes, RouteDecision } from '../config/compiled.js';
import { WeftError } from '../errors.js';
import type { Layer, OutboundHeaders, OutboundRequest } from './pipeline.js';

export interface RouteStageDeps {
  /** The config in force now (swapped atomically on each applied update). */
  config(): CompiledConfig;
}

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
  return (next) => (req) => {
    if (!req.external) {
      const table = deps.config().routes.get(req.target.fqdn);
      if (table === undefined) req.route = defaultDecision(req.target.fqdn);
      else {
        const decision = selectRoute(table, req);
        if (decision === undefined) {
          return Promise.reject(new WeftError('NO_ROUTE', `no route matched ${req.method} ${req.target.path} for ${req.target.fqdn} (VirtualService ${table.source})`));
        }
        req.route = decision;
      }
    }
    return next(req);
  };
}

/** The destination for a request, or undefined when no route of the VirtualService matches. */
export function selectRoute(table: HostRoutes, req: OutboundRequest): RouteDecision | undefined {
  const routes = table.routes;
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i]!;
    if (routeMatches(route, req)) return pickWeighted(route);
  }
  return undefined;
}

function routeMatches(route: CompiledRoute, req: OutboundRequest): boolean {
  const matches = route.matches;
  if (matches.length === 0) return true;
  for (let i = 0; i < matches.length; i++) if (blockMatches(matches[i]!, req)) return true;
  return false;
}

function blockMatches(m: CompiledMatch, req: OutboundRequest): boolean {
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
