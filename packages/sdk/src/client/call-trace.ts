// What one logical call went through, for the one-line messages of its failures: the route, the
// destination, the endpoints it was sent to and how many attempts were made. The retry stage writes it;
// the timeout stage (above it) and the retry stage read it when they fail a call. Kept under a symbol
// on the request rather than as a field of OutboundRequest, which stays the seam the stages share. No
// header, path or body is ever part of a message: they may carry secrets.
import type { Endpoint } from '../balancer/endpoint.js';
import { isWeftError, WeftError } from '../errors.js';
import type { OutboundRequest } from './pipeline.js';

export interface CallTrace {
  attempts: number;
  /** Each attempt's endpoint, in order (an attempt that got none is left out); formatted only for a message. */
  endpoints: Endpoint[];
}

const kTrace = Symbol('weft.callTrace');
type Traced = OutboundRequest & { [kTrace]?: CallTrace };

/** The trace of a call, made on first use. */
export function traceOf(req: OutboundRequest): CallTrace {
  return ((req as Traced)[kTrace] ??= { attempts: 0, endpoints: [] });
}

/** `route R to HOST subset S; 2 attempts on 127.0.0.1:4001, 127.0.0.1:4002` */
export function describeCall(req: OutboundRequest): string {
  const d = req.route;
  const where = d === undefined ? `${req.target.authority} (outside the mesh)` : `route ${d.routeName} to ${d.host}${d.subset ? ` subset ${d.subset}` : ''}`;
  const t = (req as Traced)[kTrace];
  if (t === undefined || t.attempts === 0) return `${where}; no attempt made`;
  const on = t.endpoints.length > 0 ? ` on ${t.endpoints.map((ep) => ep.origin.slice(ep.origin.indexOf('//') + 2)).join(', ')}` : ', no endpoint picked';
  return `${where}; ${t.attempts} attempt${t.attempts === 1 ? '' : 's'}${on}`;
}

/**
 * The failure `e` with the call's route, destination, endpoints and attempts added to its message, and
 * `extraFlags` (URX, UO) to its Envoy flag; code, status and cause are kept. Anything that is not a
 * WeftError (an abort with the caller's reason) is returned as it is.
 */
export function withCallContext(e: unknown, req: OutboundRequest, note = '', extraFlags: readonly string[] = []): unknown {
  if (!isWeftError(e)) return e;
  const flags = [e.flag, ...extraFlags].filter((f) => f !== '').join(',');
  return new WeftError(e.code, `${e.message} (${describeCall(req)}${note})`, { cause: e, status: e.status, flag: flags });
}
