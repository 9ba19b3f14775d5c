// Who serves which host right now. Workloads (one per instanceId) come and go with their session
// streams; a broken stream keeps its instances for a grace period so a quick reconnect is invisible
// to callers. Changes made in the same tick are coalesced into one notification per host.
// Only hosts that some workload serves take memory here: a host merely asked about is answered with
// an empty list and forgotten, so callers asking for ever new names cannot grow weftd.
import { serviceFqdn, type EndpointMsg, type HostEndpointsMsg, type InstanceMsg, type WorkloadMsg } from '@weft/api';

export interface WorkloadRecord {
  instanceId: string;
  service: string;
  namespace: string;
  host: string;
  labels: Record<string, string>;
  serviceAccount: string;
  workloadName: string;
  endpoints: EndpointMsg[];
  registeredAtMs: number;
  connected: boolean;
  /** The session that owns the workload now; an older session's end must not remove it. */
  sessionId: string;
  removalTimer: NodeJS.Timeout | undefined;
}

export type HostsChangedListener = (hosts: string[], version: number) => void;

/** The outcome of a Hello: the workload's record, or why the instance id cannot be taken. */
export type ConnectResult = { ok: true; record: WorkloadRecord } | { ok: false; reason: string };

/** How much the registry holds, for tests and the memory benchmark. */
export interface RegistrySizes {
  workloads: number;
  hosts: number;
  cachedHosts: number;
}

export class EndpointRegistry {
  private readonly workloads = new Map<string, WorkloadRecord>();
  private readonly byHost = new Map<string, Set<WorkloadRecord>>();
  private readonly hostCache = new Map<string, HostEndpointsMsg>();
  private readonly pendingHosts = new Set<string>();
  private flushScheduled: NodeJS.Immediate | undefined;
  private listeners: HostsChangedListener[] = [];
  private versionCounter = 0;

  constructor(private readonly graceMs: number) {}

  /** Registry-wide endpoints version (bumped once per coalesced change). */
  get version(): number {
    return this.versionCounter;
  }

  onHostsChanged(listener: HostsChangedListener): void {
    this.listeners.push(listener);
  }

  /**
   * A session said Hello: the workload is (again) connected; a pending removal is cancelled. An
   * instance id held by a live session is refused: handing it over would let any client that read
   * the id (GET /v1/services lists them) take a workload's place, and the real workload would be
   * dropped for good when the newcomer left. Only a broken session's workload, within its grace
   * period, may be resumed.
   */
  connect(w: WorkloadMsg, sessionId: string): ConnectResult {
    const labels: Record<string, string> = { ...w.labels };
    if (!Object.hasOwn(labels, 'app')) labels.app = w.service;
    const host = serviceFqdn(w.service, w.namespace);
    const existing = this.workloads.get(w.instanceId);
    if (existing?.connected && existing.sessionId !== sessionId) {
      return {
        ok: false,
        reason:
          `instance ${JSON.stringify(w.instanceId)} is registered by a live session (${existing.sessionId}); ` +
          'weftd never hands a live registration to another session. A workload that reconnects is let in once weftd has seen its old session end (within the keepalive timeout): retry with backoff',
      };
    }
    if (existing) {
      clearTimeout(existing.removalTimer);
      existing.removalTimer = undefined;
      if (existing.host !== host) this.detach(existing);
      Object.assign(existing, { service: w.service, namespace: w.namespace, host, labels, serviceAccount: w.serviceAccount, workloadName: w.workloadName, connected: true, sessionId });
      this.attach(existing);
      return { ok: true, record: existing };
    }
    const record: WorkloadRecord = {
      instanceId: w.instanceId,
      service: w.service,
      namespace: w.namespace,
      host,
      labels,
      serviceAccount: w.serviceAccount,
      workloadName: w.workloadName,
      endpoints: [],
      registeredAtMs: Date.now(),
      connected: true,
      sessionId,
      removalTimer: undefined,
    };
    this.workloads.set(w.instanceId, record);
    this.attach(record);
    return { ok: true, record };
  }

  /** Replaces the endpoints of a workload (RegisterEndpoints). */
  register(instanceId: string, sessionId: string, endpoints: EndpointMsg[]): void {
    const record = this.workloads.get(instanceId);
    if (!record || record.sessionId !== sessionId) return;
    record.endpoints = endpoints.map((e) => ({ address: e.address, port: e.port, protocol: e.protocol, servicePort: e.servicePort, mtls: e.mtls === true }));
    record.registeredAtMs = Date.now();
    this.changed(record.host);
  }

  /** The session's stream ended: its instances leave after the grace period unless it comes back. */
  disconnect(instanceId: string, sessionId: string): void {
    const record = this.workloads.get(instanceId);
    if (!record || record.sessionId !== sessionId) return;
    record.connected = false;
    clearTimeout(record.removalTimer);
    record.removalTimer = setTimeout(() => this.remove(record), this.graceMs);
    record.removalTimer.unref();
  }

  /** The complete instance list of a host (cached, while some workload serves it, until it changes). */
  hostEndpoints(host: string): HostEndpointsMsg {
    let msg = this.hostCache.get(host);
    if (!msg) {
      const workloads = this.byHost.get(host);
      if (!workloads) return { host, instances: [] }; // nobody serves it: nothing to remember
      const instances: InstanceMsg[] = [];
      for (const w of workloads) {
        for (const endpoint of w.endpoints) {
          instances.push({ instanceId: w.instanceId, workloadName: w.workloadName, labels: w.labels, serviceAccount: w.serviceAccount, endpoint });
        }
      }
      msg = { host, instances };
      this.hostCache.set(host, msg);
    }
    return msg;
  }

  /** Every workload, grouped by host, for the admin API. */
  workloadsByHost(): Map<string, WorkloadRecord[]> {
    const out = new Map<string, WorkloadRecord[]>();
    for (const [host, set] of [...this.byHost].sort(([a], [b]) => a.localeCompare(b))) {
      out.set(host, [...set].sort((a, b) => a.instanceId.localeCompare(b.instanceId)));
    }
    return out;
  }

  sizes(): RegistrySizes {
    return { workloads: this.workloads.size, hosts: this.byHost.size, cachedHosts: this.hostCache.size };
  }

  close(): void {
    for (const w of this.workloads.values()) clearTimeout(w.removalTimer);
    if (this.flushScheduled) clearImmediate(this.flushScheduled);
    this.listeners = [];
  }

  private remove(record: WorkloadRecord): void {
    if (this.workloads.get(record.instanceId) !== record || record.connected) return;
    this.workloads.delete(record.instanceId);
    this.detach(record);
  }

  private attach(record: WorkloadRecord): void {
    let set = this.byHost.get(record.host);
    if (!set) this.byHost.set(record.host, (set = new Set()));
    set.add(record);
    if (record.endpoints.length > 0) this.changed(record.host);
  }

  private detach(record: WorkloadRecord): void {
    const set = this.byHost.get(record.host);
    set?.delete(record);
    if (set?.size === 0) {
      this.byHost.delete(record.host);
      this.hostCache.delete(record.host);
    }
    if (record.endpoints.length > 0) this.changed(record.host);
  }

  private changed(host: string): void {
    this.hostCache.delete(host);
    this.pendingHosts.add(host);
    this.flushScheduled ??= setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = undefined;
    if (this.pendingHosts.size === 0) return;
    const hosts = [...this.pendingHosts];
    this.pendingHosts.clear();
    this.versionCounter++;
    for (const l of this.listeners) l(hosts, this.versionCounter);
  }
}
