// The client's view of endpoints and the clusters built over it. A cluster is (host, subset, service
// port): the endpoints of the host that carry the subset's labels and serve that port, the trafficPolicy
// merged for it (config/traffic-policy.ts: balancer, consistent hash, warmup, connection pool, outlier
// detection, tls), and the Picker of its balancer over the endpoints that are not ejected. Clusters are
// made on first use and rebuilt only when the endpoints of their host, the config, or the set of ejected
// endpoints change; a request just looks its cluster up.
// What a cluster counts (connections and waiting requests, ejections) lives in state objects kept
// across rebuilds while the settings they count for stay the same: an endpoint push does not forget
// that an endpoint is ejected, nor the requests in flight.
import { parseFqdn, type InstanceMsg } from '@weft/api';
import { EMPTY_PICKER, getBalancer, type Picker } from '../balancer/index.js';
import { originOf, type Endpoint } from '../balancer/endpoint.js';
import { EMPTY_CONFIG, type CompiledConfig, type CompiledDestinationRule, type CompiledSubset } from '../config/compiled.js';
import {
  clusterPolicy,
  DEFAULT_CLUSTER_POLICY,
  type ClusterPolicy,
  type CompiledTrafficPolicy,
  type ConnectionPoolLimits,
  type LoadBalancing,
} from '../config/traffic-policy.js';
import { ConnectionLimiter } from './connection-limiter.js';
import { OutlierDetector } from './outlier-detector.js';

export interface Cluster {
  readonly host: string;
  readonly subset: string | undefined;
  /** 0 = the request named no port: every endpoint of the host. */
  readonly port: number;
  /** Every endpoint of the cluster, ejected or not. */
  readonly endpoints: readonly Endpoint[];
  /** The endpoints requests may go to: those not ejected (all of them in panic mode). */
  readonly eligible: readonly Endpoint[];
  /** The balancer over `eligible`. */
  readonly picker: Picker;
  readonly balancer: string;
  /** False when a route names a subset no DestinationRule defines. */
  readonly subsetDefined: boolean;
  /** The DestinationRule's trafficPolicy as it applies to this cluster. */
  readonly policy: ClusterPolicy;
  /** Connection-pool limits being counted; undefined when the policy sets none. */
  readonly limiter: ConnectionLimiter | undefined;
  /** Outlier detection; undefined when the policy has none. */
  readonly outlier: OutlierDetector | undefined;
}

/** What a cluster counts, kept across its rebuilds. */
interface ClusterState {
  limiter: ConnectionLimiter | undefined;
  outlier: OutlierDetector | undefined;
}

/** One cluster's figures, for mesh.clusterStats(). */
export interface ClusterStats {
  host: string;
  subset: string | undefined;
  port: number;
  balancer: string;
  endpoints: number;
  /** Endpoints ejected by outlier detection now. */
  ejected: number;
  /** True while too few endpoints are healthy (minHealthPercent): all of them are used. */
  panic: boolean;
  ejectionsTotal: number;
  /** Ejections maxEjectionPercent did not allow. */
  ejectionsRefused: number;
  /** Requests holding a connection, waiting for one, and refused with UO. */
  active: number;
  pending: number;
  overflows: number;
}

/** Endpoints of one host as weftd last listed them, and the clusters over them. */
export class HostView {
  /** False until weftd has answered for this host at least once. */
  known = false;
  /**
   * True once weftd has listed at least one endpoint: the host is a mesh service for the rest of the
   * process, even when every endpoint is gone (the egress stage keeps it from going to DNS).
   */
  hadEndpoints = false;
  endpoints: readonly Endpoint[] = [];
  /** subset name ('' = whole host) → service port (0 = any) → cluster. */
  readonly clusters = new Map<string, Map<number, Cluster>>();
  /** `subset|port` → what that cluster counts. */
  readonly state = new Map<string, ClusterState>();

  constructor(readonly host: string) {}
}

export class ClusterDirectory {
  private readonly hosts = new Map<string, HostView>();
  private config: CompiledConfig = EMPTY_CONFIG;

  /** `now` is a monotonic clock in ms (tests drive their own). */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** The view of a host, created (unknown, empty) on first ask. */
  view(host: string): HostView {
    let v = this.hosts.get(host);
    if (!v) {
      v = new HostView(host);
      this.hosts.set(host, v);
    }
    return v;
  }

  /** True when weftd has answered for the host; does not create a view. */
  isKnown(host: string): boolean {
    return this.hosts.get(host)?.known === true;
  }

  /** True when weftd has ever listed an endpoint of the host; does not create a view. */
  hadEndpoints(host: string): boolean {
    return this.hosts.get(host)?.hadEndpoints === true;
  }

  knownHosts(): HostView[] {
    return [...this.hosts.values()].filter((v) => v.known);
  }

  /** The cluster for a routed request; the host's view must be known. */
  cluster(view: HostView, subset: string | undefined, port: number): Cluster {
    const subsetKey = subset ?? '';
    let byPort = view.clusters.get(subsetKey);
    if (!byPort) {
      byPort = new Map();
      view.clusters.set(subsetKey, byPort);
    }
    let c = byPort.get(port);
    if (!c) {
      c = this.build(view, subset, port);
      byPort.set(port, c);
    }
    if (c.outlier !== undefined) {
      // Ejected endpoints whose time is over return here (the detector's sweeps are lazy).
      c.outlier.tick();
      c = byPort.get(port)!;
    }
    return c;
  }

  /**
   * A new config. A cluster depends only on its host's DestinationRule; compiled rules keep their
   * identity while unchanged, so only hosts whose rule is another object are rebuilt.
   */
  setConfig(config: CompiledConfig): void {
    const previous = this.config;
    this.config = config;
    for (const view of this.hosts.values()) {
      if (previous.destinationRules.get(view.host) !== config.destinationRules.get(view.host)) this.rebuild(view);
    }
  }

  /**
   * weftd's complete list for a host. Endpoint objects of instances still present are kept, so their
   * outstanding-request counts carry over. Returns the origins that left the view.
   */
  setEndpoints(host: string, instances: readonly InstanceMsg[]): string[] {
    const view = this.view(host);
    const previous = new Map(view.endpoints.map((e) => [endpointKey(e.instanceId, e.origin), e]));
    const next: Endpoint[] = [];
    const namespace = parseFqdn(host)?.namespace ?? '';
    const now = this.now();
    for (const inst of instances) {
      const ep = inst.endpoint;
      if (!ep || !ep.address || !ep.port) continue;
      const origin = originOf(ep.address, ep.port);
      const kept = previous.get(endpointKey(inst.instanceId, origin));
      if (kept && sameLabels(kept.labels, inst.labels) && kept.servicePort === ep.servicePort && kept.mtls === (ep.mtls === true) && kept.serviceAccount === inst.serviceAccount) {
        next.push(kept);
        previous.delete(endpointKey(inst.instanceId, origin));
        continue;
      }
      next.push({
        origin,
        address: ep.address,
        port: ep.port,
        protocol: ep.protocol || 'http',
        servicePort: ep.servicePort,
        instanceId: inst.instanceId,
        workloadName: inst.workloadName,
        serviceAccount: inst.serviceAccount,
        namespace,
        mtls: ep.mtls === true,
        labels: Object.freeze({ ...inst.labels }),
        outstanding: kept?.outstanding ?? 0,
        addedAt: kept?.addedAt ?? now,
      });
      if (kept) previous.delete(endpointKey(inst.instanceId, origin));
    }
    view.endpoints = next;
    view.known = true;
    if (next.length > 0) view.hadEndpoints = true;
    this.rebuild(view);
    const stillThere = new Set(next.map((e) => e.origin));
    return [...previous.values()].map((e) => e.origin).filter((o) => !stillThere.has(o));
  }

  /** Every origin any view holds (the transport keeps pools for these only). */
  liveOrigins(): Set<string> {
    const set = new Set<string>();
    for (const v of this.hosts.values()) for (const e of v.endpoints) set.add(e.origin);
    return set;
  }

  /** The figures of every cluster built so far. */
  stats(): ClusterStats[] {
    const out: ClusterStats[] = [];
    for (const view of this.hosts.values()) {
      for (const byPort of view.clusters.values()) {
        for (const c of byPort.values()) {
          c.outlier?.tick();
          out.push({
            host: c.host,
            subset: c.subset,
            port: c.port,
            balancer: c.balancer,
            endpoints: c.endpoints.length,
            ejected: c.outlier?.ejected ?? 0,
            panic: c.outlier?.panic ?? false,
            ejectionsTotal: c.outlier?.ejectionsTotal ?? 0,
            ejectionsRefused: c.outlier?.ejectionsRefused ?? 0,
            active: c.limiter?.active ?? 0,
            pending: c.limiter?.pending ?? 0,
            overflows: c.limiter?.overflows ?? 0,
          });
        }
      }
    }
    return out;
  }

  private rebuild(view: HostView): void {
    for (const [subsetKey, byPort] of view.clusters) {
      for (const port of byPort.keys()) byPort.set(port, this.build(view, subsetKey || undefined, port));
    }
  }

  private build(view: HostView, subset: string | undefined, port: number): Cluster {
    const rule = this.config.destinationRules.get(view.host);
    const subsetRule = subset === undefined ? undefined : rule?.subsets.get(subset);
    const subsetDefined = subset === undefined || subsetRule !== undefined;
    const policy = rule ? clusterPolicy(trafficOf(rule), subsetRule && subsetTrafficOf(rule, subsetRule), port) : DEFAULT_CLUSTER_POLICY;
    let endpoints: Endpoint[] = [];
    if (subsetDefined) {
      const labels = subsetRule?.labels ?? [];
      endpoints = view.endpoints.filter(
        (e) => (port === 0 || e.servicePort === 0 || e.servicePort === port) && labels.every(([k, v]) => e.labels[k] === v),
      );
    }
    const stateKey = `${subset ?? ''}|${port}`;
    const previous = view.state.get(stateKey);
    const cp = policy.connectionPool;
    const limiter = cp === undefined || !counts(cp) ? undefined : previous?.limiter?.limits.key === cp.key ? previous.limiter : new ConnectionLimiter(cp);
    const od = policy.outlierDetection;
    const outlier = od === undefined
      ? undefined
      : previous?.outlier?.settings.key === od.key
        ? previous.outlier
        : new OutlierDetector(od, () => this.ejectionsChanged(view, subset, port), this.now);
    outlier?.sync(endpoints);
    view.state.set(stateKey, { limiter, outlier });
    const balancer = policy.loadBalancing.balancer;
    const eligible = eligibleOf(endpoints, outlier);
    const picker = this.pickerOf(eligible, policy.loadBalancing);
    return { host: view.host, subset, port, endpoints, eligible, picker, balancer, subsetDefined, policy, limiter, outlier };
  }

  private pickerOf(eligible: readonly Endpoint[], lb: LoadBalancing): Picker {
    const factory = getBalancer(lb.balancer);
    return eligible.length === 0 || !factory ? EMPTY_PICKER : factory(eligible, { loadBalancing: lb, now: this.now });
  }

  /** An endpoint of the cluster was ejected or returned: only its picker changes. */
  private ejectionsChanged(view: HostView, subset: string | undefined, port: number): void {
    const byPort = view.clusters.get(subset ?? '');
    const c = byPort?.get(port);
    if (!byPort || !c) return;
    const eligible = eligibleOf(c.endpoints, c.outlier);
    byPort.set(port, { ...c, eligible, picker: this.pickerOf(eligible, c.policy.loadBalancing) });
  }
}

/** The endpoints not ejected, or all of them in panic mode (as Envoy). */
function eligibleOf(endpoints: readonly Endpoint[], outlier: OutlierDetector | undefined): readonly Endpoint[] {
  if (outlier === undefined || outlier.ejected === 0 || outlier.panic) return endpoints;
  return endpoints.filter((e) => !outlier.isEjected(e));
}

/** A limiter is needed only when some count is limited (the other settings shape undici's pools). */
function counts(cp: ConnectionPoolLimits): boolean {
  return cp.maxConnections !== Infinity || cp.maxPendingRequests !== Infinity || cp.maxRequests !== Infinity;
}

/** The rule's trafficPolicy; rules built without one (tests) say only their balancer and tls. */
function trafficOf(rule: CompiledDestinationRule): CompiledTrafficPolicy {
  return rule.traffic ?? { layer: { loadBalancing: loadBalancingNamed(rule.balancer), tls: rule.tls }, ports: new Map() };
}

function subsetTrafficOf(rule: CompiledDestinationRule, subset: CompiledSubset): CompiledTrafficPolicy | undefined {
  if (subset.traffic !== undefined || rule.traffic !== undefined) return subset.traffic;
  if (subset.balancer === rule.balancer && subset.tls === rule.tls) return undefined;
  return { layer: { loadBalancing: loadBalancingNamed(subset.balancer), tls: subset.tls }, ports: new Map() };
}

function loadBalancingNamed(balancer: string): LoadBalancing {
  return { balancer, consistentHash: undefined, warmup: undefined, key: balancer };
}

function endpointKey(instanceId: string, origin: string): string {
  return `${instanceId} ${origin}`;
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  return ak.every((k) => a[k] === b[k]);
}
