// Errors of the mesh as data: a stable `code`, the HTTP status the edge would answer with (as Envoy
// does) and Envoy's response flag, so logs and later telemetry read like an Istio proxy's.
// The brand is a global symbol so that two copies of @weft/sdk in one process still recognise
// each other's errors (instanceof would not).

const WEFT_ERROR_BRAND = Symbol.for('weft.WeftError');

export type WeftErrorCode =
  | 'NO_HEALTHY_UPSTREAM'
  | 'NO_ROUTE'
  | 'CLUSTER_NOT_FOUND'
  | 'UPSTREAM_CONNECT_FAILURE'
  | 'UPSTREAM_RESET'
  | 'UPSTREAM_OVERFLOW'
  | 'UPSTREAM_TIMEOUT'
  | 'FAULT_ABORT'
  | 'EXTERNAL_HOST_BLOCKED'
  | 'CONTROL_PLANE_UNAVAILABLE'
  | 'REDIRECT_FAILED'
  | 'INVALID_ARGUMENT'
  | 'MESH_CLOSED';

interface CodeInfo {
  status: number;
  /** Envoy's %RESPONSE_FLAGS% for it; '' where Envoy logs none ('-'). */
  flag: string;
  /**
   * The body of the local reply Envoy sends in its place (text/plain), or undefined for failures that
   * are not an upstream's answer (bad arguments, a closed mesh, a failed redirect): those always reject.
   */
  envoyBody: string | undefined;
}

const CONNECT_FAILURE_BODY = 'upstream connect error or disconnect/reset before headers. reset reason: connection failure';
const RESET_BODY = 'upstream connect error or disconnect/reset before headers. reset reason: connection termination';

/** Edge status, Envoy response flag and Envoy's local reply of each code. */
const CODE_INFO: Readonly<Record<WeftErrorCode, CodeInfo>> = {
  NO_HEALTHY_UPSTREAM: { status: 503, flag: 'UH', envoyBody: 'no healthy upstream' },
  // Envoy's route_not_found: 404 with an empty body.
  NO_ROUTE: { status: 404, flag: 'NR', envoyBody: '' },
  // A route to a subset no DestinationRule defines: Istio's sidecar has no such cluster, and Envoy's
  // router answers cluster_not_found, 503 (Istio sets cluster_not_found_response_code) with an empty
  // body and flag NC (Envoy before 1.18 logged NR for it).
  CLUSTER_NOT_FOUND: { status: 503, flag: 'NC', envoyBody: '' },
  UPSTREAM_CONNECT_FAILURE: { status: 503, flag: 'UF', envoyBody: CONNECT_FAILURE_BODY },
  UPSTREAM_RESET: { status: 503, flag: 'UR', envoyBody: RESET_BODY },
  // DestinationRule connectionPool limits reached (Envoy's circuit breakers): refused at once.
  UPSTREAM_OVERFLOW: { status: 503, flag: 'UO', envoyBody: 'upstream connect error or disconnect/reset before headers. reset reason: overflow' },
  // The route's timeout (or x-envoy-upstream-rq-timeout-ms, or a retry's perTryTimeout) ran out.
  UPSTREAM_TIMEOUT: { status: 504, flag: 'UT', envoyBody: 'upstream request timeout' },
  // VirtualService fault.abort; the status is the rule's httpStatus (set per error).
  FAULT_ABORT: { status: 503, flag: 'FI', envoyBody: 'fault filter abort' },
  // Istio's REGISTRY_ONLY: the `block_all` route's direct response, 502 with no body and no flag
  // (access log: `502 - direct_response`, destination BlackHoleCluster).
  EXTERNAL_HOST_BLOCKED: { status: 502, flag: '', envoyBody: '' },
  CONTROL_PLANE_UNAVAILABLE: { status: 503, flag: 'UH', envoyBody: 'no healthy upstream' },
  REDIRECT_FAILED: { status: 502, flag: '', envoyBody: undefined },
  INVALID_ARGUMENT: { status: 400, flag: '', envoyBody: undefined },
  MESH_CLOSED: { status: 503, flag: 'LR', envoyBody: undefined },
};

export class WeftError extends Error {
  readonly [WEFT_ERROR_BRAND] = true;
  /** HTTP status an edge (a gateway, a server relaying the failure) answers with. */
  readonly status: number;
  /** Envoy response flag, e.g. `UH` (no healthy upstream); '' where Envoy logs none. */
  readonly flag: string;

  constructor(
    readonly code: WeftErrorCode,
    message: string,
    /** status: a fault abort's own status; flag: flags that add to the code's (`UF,URX` when retries ran out). */
    options?: { cause?: unknown; status?: number; flag?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WeftError';
    this.status = options?.status ?? CODE_INFO[code].status;
    this.flag = options?.flag ?? CODE_INFO[code].flag;
  }
}

export function isWeftError(e: unknown): e is WeftError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[WEFT_ERROR_BRAND] === true;
}

/** True when `e` is a WeftError with the given code. */
export function isWeftErrorCode(e: unknown, code: WeftErrorCode): e is WeftError {
  return isWeftError(e) && e.code === code;
}

/** What Envoy would answer instead of this failure, or undefined when the failure is not an upstream answer. */
export interface EnvoyLocalReply {
  status: number;
  /** '' where Envoy logs none. */
  flag: string;
  body: string;
}

export function envoyLocalReply(e: WeftError): EnvoyLocalReply | undefined {
  const info = CODE_INFO[e.code];
  if (info === undefined || info.envoyBody === undefined) return undefined;
  return { status: e.status, flag: e.flag, body: info.envoyBody };
}

export function noHealthyUpstream(host: string, subset?: string): WeftError {
  return new WeftError('NO_HEALTHY_UPSTREAM', `no healthy upstream for ${host}${subset ? ` subset ${subset}` : ''}`);
}

/**
 * A route to a subset that no DestinationRule of its host defines (yet): Envoy's cluster_not_found.
 * Says which route, and what makes it work, in one line.
 */
export function clusterNotFound(host: string, subset: string, routeName: string): WeftError {
  return new WeftError(
    'CLUSTER_NOT_FOUND',
    `no cluster for ${host} subset ${subset} (route ${routeName}): no DestinationRule for ${host} defines subset ${JSON.stringify(subset)}; apply one that does`,
  );
}

export function invalidArgument(message: string): WeftError {
  return new WeftError('INVALID_ARGUMENT', message);
}
