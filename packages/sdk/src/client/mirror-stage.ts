// Mirror stage: the route's traffic mirroring (VirtualService http[].mirror with mirrorPercentage or the
// deprecated mirrorPercent, and mirrors[] each with its own percentage; absent percentage = 100 %, as
// Istio). For each mirror drawn, a copy of the request goes to the mirror's destination once the primary
// has been dispatched, fire-and-forget, as Envoy's shadowing:
// - its Host (authority) gets `-shadow` appended to the host name (before any port, as Envoy);
// - it runs the stages below (the route's timeout, no retries, the mirror cluster's balancing, pools and
//   breakers), never the caller's signal: its answer is read and dropped, its failure counted, and
//   neither reaches, delays or fails the caller;
// - it is bounded: at most `maxInFlight` copies per mesh are in flight (until their body is drained);
//   past it a copy is dropped and counted, so a slow mirror target cannot grow memory;
// - only a buffered body (string or bytes) is copied; a request whose body is a stream is not mirrored
//   (the stream can be read once, by the primary), and that is counted too.
import { DEFAULT_ROUTE_POLICY } from '../config/compile-route-policy.js';
import type { MirrorPolicy } from '../config/route-policy.js';
import type { Handler, Layer, OutboundRequest, OutboundResponse } from './pipeline.js';
import type { ResilienceStats } from './resilience-stats.js';

export const DEFAULT_MAX_MIRRORS_IN_FLIGHT = 100;

export interface MirrorStageDeps {
  stats: ResilienceStats;
  /** Mirrored requests in flight per mesh; past it copies are dropped. */
  maxInFlight: number;
  /** For tests: the draws. */
  random?: () => number;
}

/** `reviews-shadow:9080` for `reviews:9080`; `[::1]-shadow:80` keeps an IPv6 literal's brackets. */
export function shadowAuthority(authority: string): string {
  const colon = authority.lastIndexOf(':');
  const hasPort = colon > authority.lastIndexOf(']') && /^\d+$/.test(authority.slice(colon + 1));
  return hasPort ? `${authority.slice(0, colon)}-shadow${authority.slice(colon)}` : `${authority}-shadow`;
}

export function mirrorStage(deps: MirrorStageDeps): Layer {
  const random = deps.random ?? Math.random;
  const stats = deps.stats;

  const copyOf = (req: OutboundRequest, m: MirrorPolicy): OutboundRequest | undefined => {
    const body = req.body;
    if (body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      stats.mirrorsSkippedStreamBody++;
      return undefined;
    }
    if (stats.mirrorsInFlight >= deps.maxInFlight) {
      stats.mirrorsDropped++;
      return undefined;
    }
    stats.mirrorsInFlight++; // held from here: several copies of one request count one by one
    const host = req.headers.host;
    const authority = typeof host === 'string' ? host : req.target.authority;
    return {
      method: req.method,
      target: req.target,
      headers: { ...req.headers, host: shadowAuthority(authority) },
      body,
      signal: undefined,
      external: false,
      route: m.decision,
      endpoint: undefined,
      record: { flags: [], attempts: 0 },
    };
  };

  const send = (next: Handler, copy: OutboundRequest): void => {
    stats.mirrorsSent++;
    const done = (): void => {
      stats.mirrorsInFlight--;
    };
    let promise: Promise<OutboundResponse>;
    try {
      promise = next(copy);
    } catch {
      stats.mirrorsFailed++;
      done();
      return;
    }
    promise.then(
      (res) => {
        if (res.statusCode >= 500) stats.mirrorsFailed++;
        drain(res, done);
      },
      () => {
        stats.mirrorsFailed++;
        done();
      },
    );
  };

  return (next: Handler) => (req) => {
    const mirrors = req.route === undefined ? undefined : (req.route.policy ?? DEFAULT_ROUTE_POLICY).mirrors;
    if (mirrors === undefined || mirrors.length === 0) return next(req);
    // Copies are made before the primary goes on (stages below change its headers and signal) and
    // sent once it has been dispatched.
    let copies: OutboundRequest[] | undefined;
    for (const m of mirrors) {
      if (random() * 1_000_000 >= m.perMillion) continue;
      const copy = copyOf(req, m);
      if (copy !== undefined) (copies ??= []).push(copy);
    }
    const primary = next(req);
    if (copies !== undefined) for (const copy of copies) send(next, copy);
    return primary;
  };
}

/** Reads the copy's answer to its end and drops it; `done` once the connection is free. */
function drain(res: OutboundResponse, done: () => void): void {
  const body = res.body;
  if (body.destroyed || body.closed) {
    done();
    return;
  }
  body.once('close', done);
  body.on('error', () => undefined);
  body.resume();
}
