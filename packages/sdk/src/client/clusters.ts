// The client's view of endpoints and the clusters built over it. A cluster is (host, subset, service
// port): the endpoints of the host that carry the subset's labels and serve that port, behind the
// Picker of the balancer the DestinationRule names. Clusters are made on first use and rebuilt only
// when the endpoints of their host or the config change; a request just looks its cluster up.
import { parseFqdn, type InstanceMsg } from '@weft/api';
import { DEFAULT_BALANCER, EMPTY_PICKER, getBalancer, type Picker } from '../balancer/index.js';
import { originOf, type Endpoint } from '../balancer/endpoint.js';
import { EMPTY_CONFIG, type CompiledConfig } from '../config/compiled.js';

export interface Cluster {
  readonly host: string;
  readonly subset: string | undefined;
  /** 0 = the request named no port: every endpoint of the host. */
  readonly port: number;
  readonly endpoints: readonly Endpoint[];
  readonly picker: Picker;
  readonly balancer: string;
  /** False when a route names a subset no DestinationRule defines. */
  readonly subsetDefined: boolean;
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

  constructor(readonly host: string) {}
}

export class ClusterDirectory {
  private readonly hosts = new Map<string, HostView>();
  private config: CompiledConfig = EMPTY_CONFIG;

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

  private rebuild(view: HostView): void {
    for (const [subsetKey, byPort] of view.clusters) {
      for (const port of byPort.keys()) byPort.set(port, this.build(view, subsetKey || undefined, port));
    }
  }

  private build(view: HostView, subset: string | undefined, port: number): Cluster {
    const rule = this.config.destinationRules.get(view.host);
    const subsetRule = subset === undefined ? undefined : rule?.subsets.get(subset);
    const subsetDefined = subset === undefined || subsetRule !== undefined;
    const balancer = subsetRule?.balancer ?? rule?.balancer ?? DEFAULT_BALANCER;
    let endpoints: Endpoint[] = [];
    if (subsetDefined) {
      const labels = subsetRule?.labels ?? [];
      endpoints = view.endpoints.filter(
        (e) => (port === 0 || e.servicePort === 0 || e.servicePort === port) && labels.every(([k, v]) => e.labels[k] === v),
      );
    }
    const factory = getBalancer(balancer);
    const picker = endpoints.length === 0 || !factory ? EMPTY_PICKER : factory(endpoints);
    return { host: view.host, subset, port, endpoints, picker, balancer, subsetDefined };
  }
}

function endpointKey(instanceId: string, origin: string): string {
  return `${instanceId} ${origin}`;
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  return ak.every((k) => a[k] === b[k]);
}
