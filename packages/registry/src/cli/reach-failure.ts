// Why weftctl got no answer from weftd's admin API, in words a user can act on. The common mistakes
// (weftd not running, the session port instead of the admin port, a server that does not speak TLS,
// the admin credential of another weftd, a host name typo) each leave a recognisable error code; the
// bare code (EPROTO, SELF_SIGNED_CERT_IN_CHAIN) tells a new user nothing.
import { DEFAULT_ADMIN_PORT, DEFAULT_GRPC_PORT } from '@weft/api';

const POINT_AT_IT = `point --server (or WEFT_SERVER) at weftd's admin API (port ${DEFAULT_ADMIN_PORT} by default, weftd --admin-port)`;

/** A network or protocol error of one request to `baseUrl`, as one message. */
export function explainRequestFailure(baseUrl: string, e: unknown, credentialSource?: string): string {
  const err = (e ?? {}) as { code?: unknown; message?: unknown; rawPacket?: unknown };
  const code = typeof err.code === 'string' ? err.code : '';
  const detail = code || String(err.message ?? e);
  if (code === 'ECONNREFUSED') {
    return `cannot reach weftd at ${baseUrl}: connection refused, nothing listens there; is weftd running? Start it with 'npx weftd', or ${POINT_AT_IT}`;
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `cannot reach weftd at ${baseUrl}: its host name does not resolve (${code}); check --server or WEFT_SERVER`;
  }
  if (code.startsWith('HPE_')) {
    if (looksLikeHttp2(err.rawPacket)) {
      return (
        `${baseUrl} is not weftd's admin API: it answered in HTTP/2, as a gRPC server does. weftd's session port ` +
        `(default ${DEFAULT_GRPC_PORT}, weftd --port) speaks gRPC over HTTP/2 and is for workloads; weftctl talks to the ` +
        `admin API, HTTPS on port ${DEFAULT_ADMIN_PORT} by default (weftd --admin-port), e.g. --server https://127.0.0.1:${DEFAULT_ADMIN_PORT}`
      );
    }
    return `${baseUrl} is not weftd's admin API: its answer is not HTTP/1.1 (${code}); ${POINT_AT_IT}`;
  }
  if (code === 'ERR_WEFT_NOT_WEFTD') return `${baseUrl}: ${String(err.message)}`;
  if (/NO_APPLICATION_PROTOCOL/i.test(code) || /no application protocol/i.test(String(err.message))) {
    return (
      `${baseUrl} is not weftd's admin API: it speaks only HTTP/2 (gRPC), as weftd's session port does (default ${DEFAULT_GRPC_PORT}, weftd --port, for workloads); ` +
      `weftctl talks to the admin API (default ${DEFAULT_ADMIN_PORT}, weftd --admin-port), e.g. --server https://127.0.0.1:${DEFAULT_ADMIN_PORT}`
    );
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return `cannot trust ${baseUrl}: its certificate is ${code === 'CERT_HAS_EXPIRED' ? 'expired' : 'not valid yet'} (${code}); check the clocks of this machine and of weftd's (weftd renews its own certificate while it runs)`;
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)) {
    // Without a credential (weftctl --version answers without one) there were no roots to trust weftd by.
    if (credentialSource === undefined) {
      return `cannot trust ${baseUrl} (${code}): weftctl trusts weftd by the roots in its admin credential, and has none; give --credentials FILE or set WEFT_CREDENTIALS`;
    }
    return (
      `cannot trust ${baseUrl}: its certificate is not signed by a root of the admin credential (${credentialSource}) (${code}). ` +
      "The credential is another weftd's, or was taken before a root rotation or a change of weftd's CA: take that weftd's <data-dir>/admin.cred again"
    );
  }
  // A TLS client reading a plain-text answer (an HTTP server's "HTTP/1.1 400") as a TLS record.
  if (/wrong version number|packet length too long/i.test(String(err.message))) {
    return `${baseUrl} does not speak TLS (its answer is plain text, as a plain-HTTP server's is), and weftd's admin API is HTTPS; ${POINT_AT_IT}`;
  }
  if (/^ERR_SSL_|^EPROTO$/.test(code) || /SSL routines/i.test(String(err.message))) {
    return `cannot reach weftd at ${baseUrl}: TLS failed (${code || String(err.message)}); is it weftd's admin API (HTTPS)? ${POINT_AT_IT}`;
  }
  if (code === 'ECONNRESET' || /socket hang up/i.test(String(err.message))) {
    return `${baseUrl} closed the connection without answering (${detail}); is it weftd's admin API? If so, see weftd's log; else ${POINT_AT_IT}`;
  }
  return `cannot reach weftd at ${baseUrl}: ${detail}`;
}

/** An HTTP/2 server's first bytes are a SETTINGS frame: 3 bytes of length, then type 0x04. */
function looksLikeHttp2(raw: unknown): boolean {
  return Buffer.isBuffer(raw) && raw.length >= 9 && raw[3] === 0x04;
}
