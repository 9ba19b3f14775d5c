// Why a session with weftd could not be opened, in words a user can act on. grpc-js reports every
// failed connection as UNAVAILABLE with its last error in the details; the common mistakes (weftd not
// running, a wrong host name, the admin port instead of the session port, TLS on one side only) each
// leave a recognisable trace there.
import { DEFAULT_ADMIN_PORT, DEFAULT_GRPC_PORT } from '@weft/api';

export interface ConnectFailure {
  /** Stable short reason: refused, dns, protocol, tls, timeout, rejected, other. */
  kind: 'refused' | 'dns' | 'protocol' | 'tls' | 'timeout' | 'rejected' | 'other';
  message: string;
}

const HOW_TO_START = `start it with 'npx weftd' (session port --port, default ${DEFAULT_GRPC_PORT}), or point createMesh at it with options.controlPlane or WEFT_CONTROL_PLANE`;

/** `details` is the grpc-js status details (or any error text) of the failed attempt. */
export function explainConnectFailure(address: string, code: string, rawDetails: string): ConnectFailure {
  const details = plainDetails(rawDetails);
  const port = Number(/:(\d+)$/.exec(address)?.[1]);
  if (/ECONNREFUSED/.test(details)) {
    return { kind: 'refused', message: `connection refused by ${address}: is weftd running there? ${HOW_TO_START}` };
  }
  if (/Name resolution failed|ENOTFOUND|EAI_AGAIN/.test(details)) {
    return { kind: 'dns', message: `cannot resolve the host of ${address} (${details}); check options.controlPlane or WEFT_CONTROL_PLANE` };
  }
  if (/Protocol error|HPE_|ERR_HTTP2|Received HTTP status code|parse error|Unexpected/i.test(details)) {
    const adminHint =
      port === DEFAULT_ADMIN_PORT
        ? ` Port ${DEFAULT_ADMIN_PORT} is weftd's admin API (for weftctl); the session port is ${DEFAULT_GRPC_PORT}.`
        : ` If this is weftd's admin API port (default ${DEFAULT_ADMIN_PORT}, for weftctl), use its session port instead (default ${DEFAULT_GRPC_PORT}, weftd --port).`;
    return { kind: 'protocol', message: `${address} does not speak weftd's session protocol (gRPC over HTTP/2): ${details}.${adminHint}` };
  }
  if (/SSL|TLS|certificate|wrong version number|EPROTO/i.test(details)) {
    return { kind: 'tls', message: `TLS mismatch with ${address}: ${details}` };
  }
  if (/ETIMEDOUT|timed out|DEADLINE/i.test(details) || code === 'DEADLINE_EXCEEDED') {
    return { kind: 'timeout', message: `no answer from ${address} (${details}); is a firewall in the way, or the address wrong?` };
  }
  if (code !== 'UNAVAILABLE' && code !== '14') {
    // weftd answered and refused the session (INVALID_ARGUMENT, ALREADY_EXISTS, RESOURCE_EXHAUSTED, ...).
    return { kind: 'rejected', message: `weftd at ${address} refused the session: ${code}: ${details}` };
  }
  return { kind: 'other', message: `cannot open a session with weftd at ${address}: ${details}` };
}

/** grpc-js wraps the cause: "No connection established. Last error: X (2026-...Z). Resolution note: ". */
function plainDetails(details: string): string {
  return details
    .replace(/^No connection established\. Last error: (Error: )?/, '')
    .replace(/\s*\(\d{4}-\d\d-\d\dT[\d:.]+Z\)/, '')
    .replace(/\.?\s*Resolution note:\s*$/, '')
    .trim();
}
