// Outlier detection of one cluster (DestinationRule outlierDetection): Envoy's consecutive-error
// detector as Istio configures it, written by hand because no library has Envoy's rules (cockatiel's
// circuit breaker opens a whole policy, not one endpoint of many, and knows no ejection percent or
// panic threshold). As in Envoy (outlier_detection_impl.cc):
// - every result of an endpoint is reported: an HTTP status, or a failure that originated here (could
//   not connect, reset, timed out). Without splitExternalLocalOriginErrors those count as 503 / 503 /
//   504; with it they count apart (consecutiveLocalOriginFailures) and any answer resets that count;
// - consecutive5xxErrors 5xx answers in a row, or consecutiveGatewayErrors 502/503/504 in a row, eject
//   the endpoint at once, unless that would take the ejected share above maxEjectionPercent
//   (100 × (ejected + 1) / endpoints must stay ≤ maxEjectionPercent: with the default 10 %, a cluster of
//   fewer than 10 endpoints ejects none; Envoy before 1.31 let one through, Envoy since needs
//   always_eject_one_host, which Istio does not set);
// - an ejected endpoint stays out for baseEjectionTime × its back-off (which grows by one per ejection
//   up to max_ejection_time, 300 s, and shrinks by one per interval it stays in), and returns at the
//   first interval sweep after that, its counts reset.
// Sweeps run lazily: the pick stage calls tick(), which runs the sweeps due since the last one (a
// cluster nobody calls needs no timer, and a closed mesh leaves none behind).
// Pure logic on the Endpoint objects the cluster lists; nothing HTTP about it but the status numbers.
import type { Endpoint } from '../balancer/endpoint.js';
import type { OutlierSettings } from '../config/traffic-policy.js';

/** One result of a request to an endpoint. */
export type OutlierResult =
  | { readonly kind: 'status'; readonly status: number }
  /** Could not connect (refused, unreachable, TLS handshake, connect timeout). */
  | { readonly kind: 'connect-failure' }
  /** The connection was reset or closed before the answer was complete. */
  | { readonly kind: 'reset' }
  /** The request timed out (route timeout or per-try timeout). */
  | { readonly kind: 'timeout' };

interface HostState {
  consecutive5xx: number;
  consecutiveGateway: number;
  consecutiveLocal: number;
  ejected: boolean;
  ejectedAt: number;
  /** Envoy's ejectTimeBackoff: the ejection lasts base × this. */
  backoff: number;
  ejections: number;
  lastUnejectedAt: number | undefined;
}

/** Sweeps simulated one by one after a long quiet spell; past it the rest are applied at once. */
const MAX_SWEEPS_AT_ONCE = 1000;

export class OutlierDetector {
  private readonly hosts = new Map<Endpoint, HostState>();
  private ejectedCount = 0;
  private nextSweepAt: number;
  /** Ejections made, and ejections refused by maxEjectionPercent (Envoy's ejections_overflow). */
  ejectionsTotal = 0;
  ejectionsRefused = 0;

  constructor(
    readonly settings: OutlierSettings,
    /** Called when the set of ejected endpoints changes (the cluster rebuilds its picker). */
    private readonly changed: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.nextSweepAt = now() + settings.intervalMs;
  }

  /** The cluster's endpoints now: state is kept for those still there. Does not call `changed`. */
  sync(endpoints: readonly Endpoint[]): void {
    const keep = new Set(endpoints);
    for (const [ep, s] of this.hosts) {
      if (keep.has(ep)) continue;
      if (s.ejected) this.ejectedCount--;
      this.hosts.delete(ep);
    }
    for (const ep of endpoints) {
      if (!this.hosts.has(ep)) {
        this.hosts.set(ep, { consecutive5xx: 0, consecutiveGateway: 0, consecutiveLocal: 0, ejected: false, ejectedAt: 0, backoff: 0, ejections: 0, lastUnejectedAt: undefined });
      }
    }
  }

  isEjected(ep: Endpoint): boolean {
    return this.hosts.get(ep)?.ejected === true;
  }

  get ejected(): number {
    return this.ejectedCount;
  }

  /** True while too few endpoints are healthy: Envoy's panic mode, balancing over all of them. */
  get panic(): boolean {
    const n = this.hosts.size;
    return n > 0 && (100 * (n - this.ejectedCount)) / n < this.settings.minHealthPercent;
  }

  /** Runs the interval sweeps that are due. */
  tick(): void {
    const now = this.now();
    if (now < this.nextSweepAt) return;
    const interval = this.settings.intervalMs;
    const due = Math.floor((now - this.nextSweepAt) / interval) + 1;
    let returned = false;
    for (let i = 0; i < Math.min(due, MAX_SWEEPS_AT_ONCE); i++) {
      if (this.sweep(this.nextSweepAt)) returned = true;
      this.nextSweepAt += interval;
    }
    if (due > MAX_SWEEPS_AT_ONCE) {
      // A long quiet spell: what the remaining sweeps would do, at once.
      this.nextSweepAt += (due - MAX_SWEEPS_AT_ONCE) * interval;
      for (const s of this.hosts.values()) if (!s.ejected && s.lastUnejectedAt !== undefined) s.backoff = Math.max(0, s.backoff - (due - MAX_SWEEPS_AT_ONCE));
    }
    if (returned) this.changed();
  }

  /** One result of a request sent to `ep`. */
  report(ep: Endpoint, result: OutlierResult): void {
    const s = this.hosts.get(ep);
    if (s === undefined) return; // left the cluster meanwhile
    const o = this.settings;
    if (result.kind === 'status') {
      if (o.splitExternalLocalOriginErrors) s.consecutiveLocal = 0; // it connected
      this.putStatus(ep, s, result.status);
      return;
    }
    if (o.splitExternalLocalOriginErrors) {
      if (++s.consecutiveLocal === o.consecutiveLocalOriginFailures) this.consecutiveError(ep, s, 'local');
      return;
    }
    this.putStatus(ep, s, result.kind === 'timeout' ? 504 : 503);
  }

  private putStatus(ep: Endpoint, s: HostState, status: number): void {
    const o = this.settings;
    if (status >= 500 && status <= 599) {
      if (status >= 502 && status <= 504) {
        if (++s.consecutiveGateway === o.consecutiveGatewayErrors) this.consecutiveError(ep, s, 'gateway');
      } else s.consecutiveGateway = 0;
      if (++s.consecutive5xx === o.consecutive5xxErrors) this.consecutiveError(ep, s, '5xx');
    } else {
      s.consecutive5xx = 0;
      s.consecutiveGateway = 0;
    }
  }

  private consecutiveError(ep: Endpoint, s: HostState, which: '5xx' | 'gateway' | 'local'): void {
    if (s.ejected) return;
    this.eject(s);
    // The count that fired starts over, ejected or not, so a next bout is detected in full.
    if (which === '5xx') s.consecutive5xx = 0;
    else if (which === 'gateway') s.consecutiveGateway = 0;
    else s.consecutiveLocal = 0;
  }

  private eject(s: HostState): void {
    const o = this.settings;
    if ((100 * (this.ejectedCount + 1)) / this.hosts.size > o.maxEjectionPercent) {
      this.ejectionsRefused++;
      return;
    }
    s.ejected = true;
    s.ejectedAt = this.now();
    s.ejections++;
    if (s.backoff * o.baseEjectionTimeMs < o.maxEjectionTimeMs + o.baseEjectionTimeMs) s.backoff++;
    this.ejectedCount++;
    this.ejectionsTotal++;
    this.changed();
  }

  /** Envoy's onIntervalTimer at time `t`: returns ejected endpoints whose time is over; true if any returned. */
  private sweep(t: number): boolean {
    const o = this.settings;
    let returned = false;
    for (const s of this.hosts.values()) {
      if (s.ejected) {
        if (Math.min(o.baseEjectionTimeMs * s.backoff, o.maxEjectionTimeMs) <= t - s.ejectedAt) {
          s.ejected = false;
          s.consecutive5xx = 0;
          s.consecutiveGateway = 0;
          s.consecutiveLocal = 0;
          s.lastUnejectedAt = t;
          this.ejectedCount--;
          returned = true;
        }
      } else if (s.lastUnejectedAt !== undefined && t - s.lastUnejectedAt >= o.intervalMs && s.backoff > 0) {
        s.backoff--;
      }
    }
    return returned;
  }
}
