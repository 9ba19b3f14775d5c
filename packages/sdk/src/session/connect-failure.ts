// Why a session with weftd could not be opened, in words a user can act on. grpc-js reports every
// failed connection as UNAVAILABLE with its last error in the details; the common mistakes (weftd not
// running, a wrong host name, the admin port instead of the session port, a plaintext server where
// weftd's TLS port should be, a server that is not the weftd the workload trusts) each leave a
// recognisable trace there.
import { DEFAULT_ADMIN_PORT, DEFAULT_GRPC_PORT } from '@weft/api';

export interface ConnectFailure {
  /** Stable short reason: refused, dns, protocol, tls, untrusted, timeout, rejected, other. */
  kind: 'refused' | 'dns' | 'protocol' | 'tls' | 'untrusted' | 'timeout' | 'rejected' | 'other';
  message: string;
}

/**
 * Starts the error text of a TLS connection whose server failed the workload's checks of weftd
 * (weftd-channel-credentials.ts): grpc-js keeps only an error's text, so the kind travels in it.
 */
export const UNTRUSTED_WEFTD = 'not trusted as weftd: ';

const HOW_TO_START = `start it with 'npx weftd' (session port --port, default ${DEFAULT_GRPC_PORT}), or point createMesh at it with options.controlPlane or WEFT_CONTROL_PLANE`;

/** `details` is the grpc-js status details (or any error text) of the failed attempt. */
export function explainConnectFailure(address: string, code: string, rawDetails: string): ConnectFailure {
  const details = plainDetails(rawDetails);
  const port = Number(/:(\d+)$/.exec(address)?.[1]);
  const adminHint =
    port === DEFAULT_ADMIN_PORT
      ? ` Port ${DEFAULT_ADMIN_PORT} is weftd's admin API (HTTPS, for weftctl); the session port is ${DEFAULT_GRPC_PORT}.`
      : ` If this is weftd's admin API port (HTTPS, default ${DEFAULT_ADMIN_PORT}, for weftctl), use its session port instead (default ${DEFAULT_GRPC_PORT}, weftd --port).`;
  const untrusted = details.indexOf(UNTRUSTED_WEFTD);
  if (untrusted >= 0) {
    return { kind: 'untrusted', message: `${address} is ${UNTRUSTED_WEFTD}${details.slice(untrusted + UNTRUSTED_WEFTD.length)}` };
  }
  if (/ECONNREFUSED/.test(details)) {
    return { kind: 'refused', message: `connection refused by ${address}: is weftd running there? ${HOW_TO_START}` };
  }
  if (/Name resolution failed|ENOTFOUND|EAI_AGAIN/.test(details)) {
    return { kind: 'dns', message: `cannot resolve the host of ${address} (${details}); check options.controlPlane or WEFT_CONTROL_PLANE` };
  }
  if (/no application protocol/i.test(details)) {
    // The TLS server offers no HTTP/2 (ALPN h2): an HTTPS server for HTTP/1.1 only, as weftd's admin API.
    return {
      kind: 'protocol',
      message: `${address} does not speak weftd's session protocol (gRPC over HTTP/2 on TLS): it speaks TLS but refused HTTP/2 (${openSslReason(details)}), as an HTTPS server for HTTP/1.1 only does.${adminHint}`,
    };
  }
  if (/Protocol error|HPE_|ERR_HTTP2|Received HTTP status code|parse error|Unexpected/i.test(details)) {
    return { kind: 'protocol', message: `${address} does not speak weftd's session protocol (gRPC over HTTP/2 on TLS): ${details}.${adminHint}` };
  }
  if (/wrong version number|packet length too long|http request|unknown protocol/i.test(details)) {
    // What OpenSSL says when the first bytes back are not a TLS record, e.g. "HTTP/1.1 400".
    return {
      kind: 'tls',
      message: `${address} answered without TLS (${openSslReason(details)}): weftd's session port is TLS, so this is a plaintext server (an HTTP server? a weftd from before TLS?); check options.controlPlane or WEFT_CONTROL_PLANE`,
    };
  }
  if (/socket disconnected before secure TLS connection|ECONNRESET/i.test(details)) {
    return { kind: 'tls', message: `${address} closed the connection during the TLS handshake (${details}): is it weftd's session port? check options.controlPlane or WEFT_CONTROL_PLANE` };
  }
  if (/SSL|TLS|certificate|EPROTO/i.test(details)) {
    return { kind: 'tls', message: `TLS handshake with ${address} failed: ${openSslReason(details)}` };
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

/** OpenSSL's reason out of its error line ("8...:error:0A00010B:SSL routines:fn:wrong version number:file:line:"). */
function openSslReason(details: string): string {
  return /error:[0-9A-Fa-f]+:SSL routines:[^:]*:([^:]+)/.exec(details)?.[1]?.trim() ?? details;
}
