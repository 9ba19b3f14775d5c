// createMesh(): one workload's membership in the mesh. It holds the session with weftd, the compiled
// config and the endpoint views, composes the client pipeline once, and serves and registers the
// workload's own HTTP servers.
import { EventEmitter } from 'node:events';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { MAX_CONFIRM_TIMEOUT_MS, toFqdn, type ConfigUpdateMsg, type EndpointMsg, type EndpointsUpdateMsg } from '@weft/api';
import { ClusterDirectory, type ClusterStats } from './client/clusters.js';
import { clusterTlsOf } from './client/cluster-tls.js';
import { connectionPoolStage } from './client/connection-pool-stage.js';
import { outlierStage } from './client/outlier-stage.js';
import { closeOnSignals, forgetOnSignals } from './lifecycle/signals.js';
import { egressStage } from './client/egress-stage.js';
import { fetchEdge } from './client/fetch-edge.js';
import { pickStage } from './client/pick-stage.js';
import { compose, type Handler, type Layer } from './client/pipeline.js';
import { requestEdge } from './client/request-edge.js';
import { routeStage } from './client/route-stage.js';
import { localReplyStage } from './client/local-reply-stage.js';
import { routeHeadersStage } from './client/route-headers-stage.js';
import { faultStage } from './client/fault-stage.js';
import { mirrorStage } from './client/mirror-stage.js';
import { timeoutStage } from './client/timeout-stage.js';
import { retryStage } from './client/retry-stage.js';
import { newResilienceStats, type ResilienceStats } from './client/resilience-stats.js';
import { TargetParser } from './client/target.js';
import { Transport } from './client/transport.js';
import { EMPTY_CONFIG, type CompiledConfig } from './config/compiled.js';
import { ConfigReceiver } from './config/config-receiver.js';
import { WeftError } from './errors.js';
import { resolveOptions, type MeshOptions, type ResolvedOptions } from './options.js';
import { authorizeUpgrades, authorizingListener } from './server/authorize.js';
import { drain, endpointOf, listen, makeDrainable, type ServeOptions } from './server/serve.js';
import { acceptMtls, refusePlaintextRequestsInStrict, type InboundMtlsMode, type InboundRefusal } from './server/inbound-mtls.js';
import { peerOf, type PeerIdentity } from './server/peer-identity.js';
import { RefusalLog } from './server/refusal-log.js';
import { explainConnectFailure, type ConnectFailure } from './session/connect-failure.js';
import { SessionClient } from './session/session-client.js';
import { WeftdChannelCredentials } from './session/weftd-channel-credentials.js';
import { readFileSync } from 'node:fs';
import { WorkloadIdentity, type IdentityStatus } from './identity/workload-identity.js';
import { ErrorReporter } from './error-reporter.js';

export const SDK_VERSION = '0.1.0';

export interface MeshStatus {
  connected: boolean;
  sessionId: string;
  configVersion: string;
  lastNack: { version: string; error: string } | null;
  /** FQDN → number of endpoints in the current view, for every host weftd has listed. */
  hosts: Record<string, number>;
  /** The workload's certificate identity (with a join token), or null without one. */
  identity: IdentityStatus | null;
}

export interface NackEvent { version: string; error: string }

/** Counters of the client pipeline's decisions since createMesh (telemetry will export them). */
export interface MeshStats {
  /** Retries, timeouts, fault injections and mirrored copies (client/resilience-stats.ts). */
  resilience: ResilienceStats;
}
export interface EndpointsEvent { version: string; hosts: Record<string, number> }

interface HostWait {
  promise: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
  timer: NodeJS.Timeout;
}

export class Mesh extends EventEmitter {
  readonly options: ResolvedOptions;
  readonly fetch: ReturnType<typeof fetchEdge>;
  readonly request: ReturnType<typeof requestEdge>;

  private config: CompiledConfig = EMPTY_CONFIG;
  private readonly configReceiver: ConfigReceiver;
  private readonly clusters = new ClusterDirectory();
  private readonly transport = new Transport({
    tls: () => this.identity?.tls() ?? null,
    clientTls: (req) => clusterTlsOf(this.config, req),
    identityRefused: (e) => this.errors.report(e),
    tlsSettingsProblem: (e) => this.errors.report(e),
  });
  private readonly session: SessionClient;
  /** Set when the mesh has a join token: its key, certificate and trust bundle. */
  readonly identity: WorkloadIdentity | undefined;
  private readonly handler: Handler;
  private readonly hostWaits = new Map<string, HostWait>();
  private readonly servers = new Map<http.Server, EndpointMsg>();
  private readonly errors: ErrorReporter;
  private readonly refusals = new RefusalLog(this);
  private readonly resilience = newResilienceStats();
  private sessionId = '';
  private lastNack: NackEvent | null = null;
  private configReceived = false;
  private closing: Promise<void> | undefined;
  /** Set while createMesh waits for its first session: rejects it with the reason of a failed attempt. */
  private firstConnectFailure: ((failure: ConnectFailure) => void) | undefined;

  constructor(options: MeshOptions) {
    super();
    this.options = resolveOptions(options);
    this.errors = new ErrorReporter(this);
    const o = this.options;
    this.configReceiver = new ConfigReceiver(o.namespace, { namespace: o.namespace, labels: o.labels, rootNamespace: o.rootNamespace });
    this.session = new SessionClient(
      {
        address: o.controlPlane,
        workload: {
          instanceId: `${o.workloadName}-${randomUUID()}`,
          service: o.service,
          namespace: o.namespace,
          labels: o.labels,
          serviceAccount: o.serviceAccount,
          workloadName: o.workloadName,
        },
        sdkVersion: SDK_VERSION,
        holdsView: () => this.configReceived,
        keepaliveMs: o.keepaliveMs,
        credentials: new WeftdChannelCredentials({
          roots: () => this.identity?.bundlePems() ?? (o.caFile ? readCaFile(o.caFile) : []),
          rootsSource: () => (this.identity?.bundlePems() ? 'the trust bundle this workload holds (from weftd)' : `caFile ${o.caFile} (options.caFile or WEFT_CA_FILE)`),
          pinnedCaHash: () => o.token?.parts.caHash,
          clientCertificate: () => this.identity?.credentials() ?? null,
        }),
        holdRegistration: () => this.identity !== undefined && !this.identity.hasValidCertificate(),
      },
      {
        welcome: (w) => {
          this.sessionId = w.sessionId;
          this.identity?.onWelcome(w);
          this.emit('connected', { sessionId: w.sessionId, serverId: w.serverId });
        },
        config: (msg) => this.applyConfig(msg),
        endpoints: (msg) => this.applyEndpoints(msg),
        certificate: (msg) => this.identity?.onCertificate(msg),
        bundle: (msg) => {
          this.identity?.onBundle(msg);
          this.emit('trustBundle', { version: msg.bundleVersion, roots: msg.trustBundlePem.length, renew: msg.renew });
        },
        disconnected: (reason) => {
          this.identity?.onSessionEnded(reason);
          this.emit('disconnected', { reason });
        },
        connectFailed: (code, details) => this.onConnectFailed(code, details),
        error: (e) => this.errors.report(e),
      },
    );
    this.identity = o.token
      ? new WorkloadIdentity({
          token: o.token,
          namespace: o.namespace,
          serviceAccount: o.serviceAccount,
          renewFraction: o.certRenewFraction,
          send: (req) => this.session.requestCertificate(req),
          error: (e) => this.errors.report(e),
          certified: () => this.session.flushRegistration(),
        })
      : undefined;
    this.handler = compose(this.buildPipeline(), this.transport.handler);
    const targets = new TargetParser(o.namespace);
    const checkOpen = (): void => {
      if (this.closing) throw new WeftError('MESH_CLOSED', 'the mesh is closed');
    };
    this.fetch = fetchEdge(this.handler, targets, checkOpen, o.fetchErrors);
    this.request = requestEdge(this.handler, targets, checkOpen);
  }

  /** The stages between the edges and the transport, in order (see client/pipeline.ts). */
  private buildPipeline(): Layer[] {
    return [
      egressStage({ mode: this.options.outboundTrafficPolicy.mode, config: () => this.config, clusters: this.clusters, awaitHost: (host) => this.awaitHost(host) }),
      routeStage({ config: () => this.config, source: { namespace: this.options.namespace, labels: this.options.labels } }),
      localReplyStage(),
      routeHeadersStage(),
      faultStage({ stats: this.resilience }),
      mirrorStage({ stats: this.resilience, maxInFlight: this.options.maxMirrorsInFlight }),
      timeoutStage({ stats: this.resilience }),
      retryStage({ config: () => this.config, stats: this.resilience, budget: this.options.retryBudget }),
      pickStage({ clusters: this.clusters, awaitHost: (host) => this.awaitHost(host) }),
      connectionPoolStage(),
      outlierStage(),
    ];
  }

  /** Opens the session and waits for the first config (and the views of `subscribe` hosts). */
  async start(): Promise<void> {
    const o = this.options;
    // A caFile that gives no roots fails here, naming the file, even with weftd away (a connection
    // would say only that weftd cannot be reached); it is read again at each connection.
    if (o.caFile) {
      try {
        readCaFile(o.caFile);
      } catch (e) {
        await this.close();
        throw new WeftError('INVALID_ARGUMENT', (e as Error).message);
      }
    }
    const deadline = Date.now() + o.initialTimeoutMs;
    const firstConfig = new Promise<void>((resolve) => {
      if (this.configReceived) resolve();
      else this.once('config', () => resolve());
    });
    this.session.start();
    const hosts = o.subscribe.map((h) => toFqdn(h, o.namespace));
    const firstCertificate = (this.identity?.ready ?? Promise.resolve()).catch((e: Error) => {
      throw new WeftError('CONTROL_PLANE_UNAVAILABLE', e.message);
    });
    const ready = Promise.all([firstCertificate, firstConfig.then(() => Promise.all(hosts.map((h) => this.awaitHost(h, Math.max(1, deadline - Date.now())))))]);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new WeftError('CONTROL_PLANE_UNAVAILABLE', `no session with weftd at ${o.controlPlane} within ${o.initialTimeoutMs} ms`)),
        o.initialTimeoutMs,
      );
    });
    // The first attempt's failure is final for createMesh: its reason (refused, wrong port, DNS) is
    // known at once, and waiting out the timeout would only hide it. Later reconnects retry forever.
    const refused = new Promise<never>((_, reject) => {
      this.firstConnectFailure = (failure) => reject(new WeftError('CONTROL_PLANE_UNAVAILABLE', failure.message));
    });
    try {
      await Promise.race([ready, timeout, refused]);
      closeOnSignals(this, o.shutdownSignals);
    } catch (e) {
      await this.close();
      throw e;
    } finally {
      clearTimeout(timer);
      this.firstConnectFailure = undefined;
    }
  }

  private onConnectFailed(code: string, details: string): void {
    const failure = explainConnectFailure(this.options.controlPlane, code, details);
    if (this.firstConnectFailure) this.firstConnectFailure(failure);
    else this.emit('connectFailed', failure);
  }

  /** What the client pipeline decided so far: a copy of the counters. */
  stats(): MeshStats {
    return { resilience: { ...this.resilience } };
  }

  /**
   * Every cluster (host, subset, port) this workload has sent to: its balancer, endpoints, outlier
   * ejections (and panic mode), and connection-pool counts (in flight, waiting, refused with UO).
   */
  clusterStats(): ClusterStats[] {
    return this.clusters.stats();
  }

  status(): MeshStatus {
    const hosts: Record<string, number> = {};
    for (const v of this.clusters.knownHosts()) hosts[v.host] = v.endpoints.length;
    return {
      connected: this.session.connected,
      sessionId: this.sessionId,
      configVersion: this.config.version,
      lastNack: this.lastNack,
      hosts,
      identity: this.identity?.status() ?? null,
    };
  }

  /**
   * Listens with a node:http server and registers it; closing the server deregisters it. The
   * AuthorizationPolicies in force for this workload decide every request before `listener` sees it.
   */
  async serve(listener: http.RequestListener, opts: ServeOptions = {}): Promise<http.Server> {
    if (this.closing) throw new WeftError('MESH_CLOSED', 'the mesh is closed');
    if (!this.identity) {
      // weftd registers endpoints only for an identity the workload proved; without a token it has none.
      throw new WeftError(
        'INVALID_ARGUMENT',
        `mesh.serve registers this workload's endpoints, which needs its identity: create the mesh with a join token for namespace ${this.options.namespace}, ` +
          `service account ${this.options.serviceAccount} (options.token or WEFT_TOKEN, from 'weftctl token create'); a mesh without one can only call others`,
      );
    }
    const server = http.createServer(authorizingListener(listener, () => this.config.authorization));
    authorizeUpgrades(server, () => this.config.authorization);
    makeDrainable(server);
    const mtls = {
      material: () => this.identity?.tls() ?? null,
      mode: (port: number) => this.inboundMtlsMode(port),
      refused: (r: InboundRefusal) => this.refusals.refused(r),
    };
    acceptMtls(server, mtls);
    refusePlaintextRequestsInStrict(server, mtls);
    const addr = await listen(server, opts);
    this.servers.set(server, endpointOf(addr, opts));
    server.once('close', () => {
      if (this.servers.delete(server) && !this.closing) this.registerServers();
    });
    await this.registerServers();
    return server;
  }

  /**
   * The verified identity of the caller of an inbound request (its client certificate), or null when it
   * came in plaintext.
   */
  peer(req: http.IncomingMessage): PeerIdentity | null {
    return peerOf(req);
  }

  /** PeerAuthentication's mode for a port this workload listens on; PERMISSIVE (Istio's default) without one. */
  private inboundMtlsMode(port: number): InboundMtlsMode {
    return this.config.peerAuthentication.modeFor(port);
  }

  /** Deregisters, then drains: stop accepting, wait for in-flight requests, close pools, end the session. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const grace = this.options.drainTimeoutMs;
    // First leave every caller's view, and wait until weftd says each caller has the new view: until
    // then callers may still pick this workload, and stopping to listen would fail their requests.
    // Bounded by the drain timeout (weftd caps its wait too; an older weftd that never answers is
    // covered by the local bound).
    if (this.servers.size > 0) {
      const confirmWithin = Math.min(grace, MAX_CONFIRM_TIMEOUT_MS);
      const answer = await withTimeout(this.session.registerAndConfirm([], confirmWithin), confirmWithin + 500);
      this.emit('deregistered', { confirmed: answer !== undefined && answer.acked === answer.subscribers, callers: answer?.subscribers ?? 0, acked: answer?.acked ?? 0 });
    } else {
      await withTimeout(this.session.register([]), 1000);
    }
    for (const [host, wait] of this.hostWaits) {
      clearTimeout(wait.timer);
      wait.reject(new WeftError('MESH_CLOSED', `the mesh closed while waiting for the endpoints of ${host}`));
    }
    this.hostWaits.clear();
    const servers = [...this.servers.keys()];
    this.servers.clear();
    await Promise.all([...servers.map((s) => drain(s, grace)), this.transport.close(grace)]);
    this.identity?.close();
    this.session.close();
    forgetOnSignals(this);
  }

  /**
   * Each endpoint says whether it accepts mTLS: with a certificate, unless PeerAuthentication DISABLEs
   * it on that port (callers then send plaintext, as Istio's auto-mTLS follows the server's policy).
   */
  private registerServers(): Promise<void> {
    const pa = this.config.peerAuthentication;
    return this.session.register([...this.servers.values()].map((e) => ({ ...e, mtls: this.identity !== undefined && pa.modeFor(e.port) !== 'DISABLE' })));
  }

  /** Resolves once weftd has listed `host`; subscribes it first if needed. Shared by concurrent callers. */
  awaitHost(host: string, timeoutMs = this.options.discoveryTimeoutMs): Promise<void> {
    if (this.clusters.view(host).known) return Promise.resolve();
    if (this.closing) return Promise.reject(new WeftError('MESH_CLOSED', 'the mesh is closed'));
    const existing = this.hostWaits.get(host);
    if (existing) return existing.promise;
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const timer = setTimeout(() => {
      this.hostWaits.delete(host);
      const state = this.session.connected ? 'connected, but it did not answer' : 'not reachable';
      reject(new WeftError('CONTROL_PLANE_UNAVAILABLE', `no view of ${host}: weftd at ${this.options.controlPlane} is ${state} within ${timeoutMs} ms`));
    }, timeoutMs);
    this.hostWaits.set(host, { promise, resolve, reject, timer });
    this.subscribe([host]);
    return promise;
  }

  /** Subscribes hosts and the destination hosts their VirtualServices route to. */
  private subscribe(hosts: readonly string[]): void {
    const all = new Set<string>();
    for (const h of hosts) {
      all.add(h);
      for (const d of this.config.routedHosts.get(h) ?? []) all.add(d);
    }
    this.session.subscribe(all);
  }

  /**
   * A full update replaces the received set, a delta on the version held changes it; then only what
   * changed is compiled. A delta on another base, or a set with a resource that does not compile, is
   * NACKed and the last good config stays in force.
   */
  private applyConfig(msg: ConfigUpdateMsg): void {
    const outcome = this.configReceiver.receive(msg);
    if (!outcome.ok) {
      this.lastNack = { version: msg.version, error: outcome.error };
      this.session.ack('config', msg.version, msg.nonce, outcome.error);
      this.emit('nack', this.lastNack);
      return;
    }
    const compiled = outcome.config;
    const peerAuthenticationChanged = compiled.peerAuthentication !== this.config.peerAuthentication;
    this.config = compiled;
    if (peerAuthenticationChanged && this.servers.size > 0 && !this.closing) this.registerServers().catch((e: unknown) => this.errors.report(e));
    this.clusters.setConfig(compiled);
    this.configReceived = true;
    this.session.ack('config', msg.version, msg.nonce);
    this.subscribe(this.session.subscribedHosts());
    this.emit('config', { version: msg.version });
  }

  private applyEndpoints(msg: EndpointsUpdateMsg): void {
    const counts: Record<string, number> = {};
    let removed = false;
    for (const h of msg.hosts) {
      if (this.clusters.setEndpoints(h.host, h.instances).length > 0) removed = true;
      counts[h.host] = this.clusters.view(h.host).endpoints.length;
      const wait = this.hostWaits.get(h.host);
      if (wait) {
        clearTimeout(wait.timer);
        this.hostWaits.delete(h.host);
        wait.resolve();
      }
    }
    if (removed) this.transport.retain(this.clusters.liveOrigins());
    this.session.ack('endpoints', msg.version, msg.nonce);
    this.emit('endpoints', { version: msg.version, hosts: counts } satisfies EndpointsEvent);
  }
}

/** `p`'s value, or undefined once `ms` passed. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]).finally(() => clearTimeout(timer));
}

export async function createMesh(options: MeshOptions): Promise<Mesh> {
  const mesh = new Mesh(options);
  await mesh.start();
  return mesh;
}

/** The roots of options.caFile / WEFT_CA_FILE, read at each connection (a rotation rewrites the file). */
function readCaFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`caFile ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); it should be weftd's <data-dir>/ca.pem`);
  }
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
  if (pems.length === 0) throw new Error(`caFile ${path}: holds no PEM certificate; it should be weftd's <data-dir>/ca.pem`);
  return pems;
}
