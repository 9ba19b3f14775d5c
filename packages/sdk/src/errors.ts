// Errors of the mesh as data: a stable `code`, the HTTP status the edge would answer with (as Envoy
// does) and Envoy's response flag, so logs and later telemetry read like an Istio proxy's.
// The brand is a global symbol so that two copies of @weft/sdk in one process still recognise
// each other's errors (instanceof would not).

const WEFT_ERROR_BRAND = Symbol.for('weft.WeftError');

export type WeftErrorCode =
  | 'NO_HEALTHY_UPSTREAM'
  | 'NO_ROUTE'
  | 'UPSTREAM_CONNECT_FAILURE'
  | 'UPSTREAM_RESET'
  | 'CONTROL_PLANE_UNAVAILABLE'
  | 'INVALID_ARGUMENT'
  | 'MESH_CLOSED';

interface CodeInfo {
  status: number;
  flag: string;
}

/** Edge status and Envoy response flag of each code. */
const CODE_INFO: Readonly<Record<WeftErrorCode, CodeInfo>> = {
  NO_HEALTHY_UPSTREAM: { status: 503, flag: 'UH' },
  NO_ROUTE: { status: 404, flag: 'NR' },
  UPSTREAM_CONNECT_FAILURE: { status: 503, flag: 'UF' },
  UPSTREAM_RESET: { status: 503, flag: 'UR' },
  CONTROL_PLANE_UNAVAILABLE: { status: 503, flag: 'UH' },
  INVALID_ARGUMENT: { status: 400, flag: '' },
  MESH_CLOSED: { status: 503, flag: 'LR' },
};

export class WeftError extends Error {
  readonly [WEFT_ERROR_BRAND] = true;
  /** HTTP status an edge (a gateway, a server relaying the failure) answers with. */
  readonly status: number;
  /** Envoy response flag, e.g. `UH` (no healthy upstream). */
  readonly flag: string;

  constructor(
    readonly code: WeftErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WeftError';
    this.status = CODE_INFO[code].status;
    this.flag = CODE_INFO[code].flag;
  }
}

export function isWeftError(e: unknown): e is WeftError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[WEFT_ERROR_BRAND] === true;
}

/** True when `e` is a WeftError with the given code. */
export function isWeftErrorCode(e: unknown, code: WeftErrorCode): e is WeftError {
  return isWeftError(e) && e.code === code;
}

export function noHealthyUpstream(host: string, subset?: string): WeftError {
  return new WeftError('NO_HEALTHY_UPSTREAM', `no healthy upstream for ${host}${subset ? ` subset ${subset}` : ''}`);
}

export function invalidArgument(message: string): WeftError {
  return new WeftError('INVALID_ARGUMENT', message);
}
