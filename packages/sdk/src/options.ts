// createMesh options: checked once, defaults filled in, bad values rejected with the option's name.
import { DEFAULT_GRPC_PORT, isDnsLabel, parseJoinToken, type JoinTokenParts } from '@weft/api';
import type { OutboundTrafficPolicyMode } from './client/egress-stage.js';
import type { FetchErrorMode } from './client/fetch-edge.js';
import { DEFAULT_MAX_MIRRORS_IN_FLIGHT } from './client/mirror-stage.js';
import { DEFAULT_RETRY_BUDGET, type RetryBudgetSettings } from './client/retry-budget.js';
import { invalidArgument } from './errors.js';

export interface MeshOptions {
  /** Service name (a DNS label), e.g. `reviews`. Required. */
  service: string;
  /** Default `default`. */
  namespace?: string;
  /** Endpoint labels, e.g. `{ version: 'v2' }`; `app` defaults to the service name. */
  labels?: Record<string, string>;
  /** Default `default`. */
  serviceAccount?: string;
  /** Default `<service>-<labels.version>`, or the service name without a version label. */
  workloadName?: string;
  /** weftd's session address host:port. Default: env WEFT_CONTROL_PLANE, else 127.0.0.1:15010 (weftd's default). */
  controlPlane?: string;
  /** Hosts to subscribe up front (as in URLs: `ratings`, `ratings.bookinfo`, FQDN). */
  subscribe?: string[];
  /** createMesh rejects if no session and first config by then. Default 10000. */
  initialTimeoutMs?: number;
  /** How long a first request to a host waits for weftd's list of its endpoints. Default 5000. */
  discoveryTimeoutMs?: number;
  /** How long close() waits for in-flight requests (server and client side). Default 5000. */
  drainTimeoutMs?: number;
  /** gRPC keepalive interval of the session. Default 10000. */
  keepaliveMs?: number;
  /**
   * Signals on which the mesh closes itself (deregister, wait for weftd's push, drain) before the
   * process ends. Default ['SIGTERM'], what orchestrators send; [] opts out.
   */
  shutdownSignals?: NodeJS.Signals[];
  /**
   * How mesh.fetch reports a failure of the mesh (no healthy upstream, connect failure, ...).
   * 'reject' (default), as fetch does: a TypeError('fetch failed') whose `cause` is the WeftError.
   * 'status', as Envoy does: a Response with Envoy's status and body and the flag in `x-weft-response-flags`.
   */
  fetchErrors?: FetchErrorMode;
  /**
   * Istio's meshConfig.outboundTrafficPolicy for hosts that are not mesh services. `ALLOW_ANY`
   * (default) sends them out as addressed (DNS, TLS for https); `REGISTRY_ONLY` refuses them
   * (EXTERNAL_HOST_BLOCKED, 502 like Istio's BlackHoleCluster).
   */
  outboundTrafficPolicy?: { mode: OutboundTrafficPolicyMode };
  /**
   * Istio's root namespace: AuthorizationPolicies placed in it apply to every workload of the mesh.
   * Default `istio-system`, as Istio's meshConfig.rootNamespace.
   */
  rootNamespace?: string;
  /**
   * A join token (`weftctl token create`); default: env WEFT_TOKEN. With one, createMesh makes the
   * workload's key, gets its certificate for spiffe://<trust domain>/ns/<namespace>/sa/<serviceAccount>
   * before it resolves, and keeps it renewed. Without one the mesh has no identity (docs/security.md).
   */
  token?: string;
  /** Renew the certificate when this fraction of its lifetime has passed. Default 0.5, as Istio. */
  certRenewFraction?: number;
  /**
   * Root certificates (PEM file) that vouch for weftd, for a mesh without a join token (which carries
   * its own anchor): weftd's `<data-dir>/ca.pem`. Default: env WEFT_CA_FILE. Read at each connection.
   */
  caFile?: string;
  /**
   * The retry budget of each destination service (Linkerd's): retries may add at most `ratio` of the
   * requests sent to it in the last `windowMs`, plus `minPerSecond` per second of that window. Past it a
   * failure is returned as it is (flag UO) and counted in mesh.stats(). Default
   * `{ ratio: 0.2, minPerSecond: 10, windowMs: 10000 }`; fields left out keep their default; `false`
   * turns the budget off (only the route's attempts and the DestinationRule caps then bound retries).
   */
  retryBudget?: Partial<RetryBudgetSettings> | false;
  /** Mirrored requests (VirtualService mirror/mirrors) in flight at once; past it copies are dropped and counted. Default 100. */
  maxMirrorsInFlight?: number;
}

export interface ResolvedOptions {
  service: string;
  namespace: string;
  labels: Record<string, string>;
  serviceAccount: string;
  workloadName: string;
  controlPlane: string;
  subscribe: string[];
  initialTimeoutMs: number;
  discoveryTimeoutMs: number;
  drainTimeoutMs: number;
  keepaliveMs: number;
  shutdownSignals: NodeJS.Signals[];
  fetchErrors: FetchErrorMode;
  outboundTrafficPolicy: { mode: OutboundTrafficPolicyMode };
  rootNamespace: string;
  /** The join token, parsed (undefined: no identity). */
  token: { text: string; parts: JoinTokenParts } | undefined;
  certRenewFraction: number;
  /** Where the roots for weftd come from without a token (undefined with a token and no caFile). */
  caFile: string | undefined;
  /** undefined: no retry budget. */
  retryBudget: Readonly<RetryBudgetSettings> | undefined;
  maxMirrorsInFlight: number;
}

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw invalidArgument(`options.${name} must be a positive number of milliseconds, got ${String(v)}`);
  return v;
}

export function resolveOptions(o: MeshOptions, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  if (typeof o !== 'object' || o === null) throw invalidArgument('createMesh needs an options object with at least { service }');
  if (typeof o.service !== 'string' || !isDnsLabel(o.service)) {
    throw invalidArgument(`options.service must be a DNS label (lower-case letters, digits, '-'), got ${JSON.stringify(o.service)}`);
  }
  const namespace = o.namespace ?? 'default';
  if (typeof namespace !== 'string' || !isDnsLabel(namespace)) throw invalidArgument(`options.namespace must be a DNS label, got ${JSON.stringify(o.namespace)}`);
  const labels: Record<string, string> = { app: o.service, ...(o.labels ?? {}) };
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== 'string') throw invalidArgument(`options.labels.${k} must be a string, got ${typeof v}`);
  }
  // weftd's own default session address, so that a local weftd started with no flags needs no setting.
  const controlPlane = o.controlPlane ?? (env.WEFT_CONTROL_PLANE || `127.0.0.1:${DEFAULT_GRPC_PORT}`);
  if (typeof controlPlane !== 'string' || !controlPlane) throw invalidArgument('options.controlPlane must be host:port of weftd (or leave it out: WEFT_CONTROL_PLANE, else 127.0.0.1:15010)');
  if (!/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/.test(controlPlane)) {
    throw invalidArgument(`control plane address must be host:port, got ${JSON.stringify(controlPlane)}`);
  }
  const rootNamespace = o.rootNamespace ?? 'istio-system';
  if (typeof rootNamespace !== 'string' || !isDnsLabel(rootNamespace)) {
    throw invalidArgument(`options.rootNamespace must be a DNS label (Istio's default is istio-system), got ${JSON.stringify(o.rootNamespace)}`);
  }
  const token = tokenOption(o.token ?? (env.WEFT_TOKEN || undefined), o.token === undefined);
  const subscribe = o.subscribe ?? [];
  if (!Array.isArray(subscribe) || subscribe.some((h) => typeof h !== 'string' || h.length === 0)) {
    throw invalidArgument('options.subscribe must be a list of host names');
  }
  return {
    service: o.service,
    namespace,
    labels,
    serviceAccount: o.serviceAccount ?? 'default',
    workloadName: o.workloadName ?? (labels.version ? `${o.service}-${labels.version}` : o.service),
    controlPlane,
    subscribe,
    initialTimeoutMs: positive('initialTimeoutMs', o.initialTimeoutMs, 10_000),
    discoveryTimeoutMs: positive('discoveryTimeoutMs', o.discoveryTimeoutMs, 5_000),
    drainTimeoutMs: positive('drainTimeoutMs', o.drainTimeoutMs, 5_000),
    keepaliveMs: positive('keepaliveMs', o.keepaliveMs, 10_000),
    shutdownSignals: signalsOption(o.shutdownSignals),
    fetchErrors: fetchErrorsOption(o.fetchErrors),
    outboundTrafficPolicy: { mode: outboundModeOption(o.outboundTrafficPolicy) },
    rootNamespace,
    token,
    certRenewFraction: renewFractionOption(o.certRenewFraction),
    caFile: caFileOption(o.caFile ?? (env.WEFT_CA_FILE || undefined), o.caFile === undefined, token !== undefined),
    retryBudget: retryBudgetOption(o.retryBudget),
    maxMirrorsInFlight: maxMirrorsOption(o.maxMirrorsInFlight),
  };
}

function retryBudgetOption(v: unknown): Readonly<RetryBudgetSettings> | undefined {
  if (v === undefined) return DEFAULT_RETRY_BUDGET;
  if (v === false) return undefined;
  const shape = "options.retryBudget must be false (no budget) or { ratio, minPerSecond, windowMs } (default { ratio: 0.2, minPerSecond: 10, windowMs: 10000 })";
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidArgument(`${shape}, got ${JSON.stringify(v)}`);
  const b = v as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!['ratio', 'minPerSecond', 'windowMs'].includes(k)) throw invalidArgument(`options.retryBudget.${k} is not a setting; ${shape}`);
  const number = (k: 'ratio' | 'minPerSecond' | 'windowMs', ok: (n: number) => boolean, what: string): number => {
    const n = b[k];
    if (n === undefined) return DEFAULT_RETRY_BUDGET[k];
    if (typeof n !== 'number' || !Number.isFinite(n) || !ok(n)) throw invalidArgument(`options.retryBudget.${k} must be ${what}, got ${JSON.stringify(n)}`);
    return n;
  };
  return Object.freeze({
    ratio: number('ratio', (n) => n >= 0, 'a fraction of the requests, 0 or more (0.2: retries may add 20 %)'),
    minPerSecond: number('minPerSecond', (n) => n >= 0, 'a number of retries per second, 0 or more'),
    windowMs: number('windowMs', (n) => n >= 10, 'a window in milliseconds, at least 10'),
  });
}

function maxMirrorsOption(v: unknown): number {
  if (v === undefined) return DEFAULT_MAX_MIRRORS_IN_FLIGHT;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw invalidArgument(`options.maxMirrorsInFlight must be a whole number, 0 or more (0: never mirror), got ${JSON.stringify(v)}`);
  return v;
}

function caFileOption(path: string | undefined, fromEnv: boolean, hasToken: boolean): string | undefined {
  if (path === undefined) {
    if (hasToken) return undefined;
    throw invalidArgument(
      "createMesh needs a way to trust weftd, whose session port is TLS: a join token (options.token or WEFT_TOKEN, from 'weftctl token create'), " +
        "which also gives the workload its identity, or weftd's roots (options.caFile or WEFT_CA_FILE: weftd's <data-dir>/ca.pem) for a workload that only calls others",
    );
  }
  if (typeof path !== 'string' || path.length === 0) throw invalidArgument(`${fromEnv ? 'WEFT_CA_FILE' : 'options.caFile'} must be the path of a PEM file`);
  return path;
}

function tokenOption(text: string | undefined, fromEnv: boolean): ResolvedOptions['token'] {
  if (text === undefined) return undefined;
  const source = fromEnv ? 'WEFT_TOKEN' : 'options.token';
  if (typeof text !== 'string') throw invalidArgument(`${source} must be a string (a join token from 'weftctl token create')`);
  try {
    return { text: text.trim(), parts: parseJoinToken(text) };
  } catch (e) {
    throw invalidArgument(`${source}: ${(e as Error).message}`);
  }
}

function renewFractionOption(v: number | undefined): number {
  if (v === undefined) return 0.5;
  if (typeof v !== 'number' || !(v > 0 && v < 1)) throw invalidArgument(`options.certRenewFraction must be a number between 0 and 1 (exclusive), got ${String(v)}`);
  return v;
}

function fetchErrorsOption(v: unknown): FetchErrorMode {
  if (v === undefined || v === 'reject' || v === 'status') return v ?? 'reject';
  throw invalidArgument(`options.fetchErrors must be 'reject' (fetch's TypeError) or 'status' (Envoy's answer as a Response), got ${JSON.stringify(v)}`);
}

function outboundModeOption(v: unknown): OutboundTrafficPolicyMode {
  if (v === undefined) return 'ALLOW_ANY';
  const mode = typeof v === 'object' && v !== null ? (v as { mode?: unknown }).mode : undefined;
  if (mode === 'ALLOW_ANY' || mode === 'REGISTRY_ONLY') return mode;
  throw invalidArgument(`options.outboundTrafficPolicy.mode must be 'ALLOW_ANY' or 'REGISTRY_ONLY' (Istio's names), got ${JSON.stringify(v)}`);
}

function signalsOption(v: unknown): NodeJS.Signals[] {
  if (v === undefined) return ['SIGTERM'];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || !/^SIG[A-Z0-9]+$/.test(s))) {
    throw invalidArgument(`options.shutdownSignals must be a list of signal names such as ['SIGTERM'], or [] to opt out; got ${JSON.stringify(v)}`);
  }
  return [...new Set(v as NodeJS.Signals[])];
}
