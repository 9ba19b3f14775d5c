// What a test needs to talk to a weftd's admin port below fetch (node:https requests, raw bytes over
// node:tls): the roots of its admin.cred to trust weftd, and the Authorization header of its token.
// weftd's certificate names its SPIFFE ID, not a host, so the host name check is left out; weftctl
// checks the SPIFFE ID instead. adminFetch (./weftd.ts) covers everything fetch can send.
import { readFileSync } from 'node:fs';
import { connect, type TLSSocket } from 'node:tls';

export interface AdminTls {
  /** The mesh roots (PEM), for `ca` of https.request and tls.connect. */
  ca: string;
  checkServerIdentity: () => undefined;
  /** `Bearer <token>`. */
  authorization: string;
}

/** The TLS options and Authorization header of the admin credential in `credentialsFile` (read now). */
export function adminTlsOf(credentialsFile: string): AdminTls {
  const cred = JSON.parse(readFileSync(credentialsFile, 'utf8')) as { token: string; caPem: string };
  return { ca: cred.caPem, checkServerIdentity: () => undefined, authorization: `Bearer ${cred.token}` };
}

/** A TLS connection to 127.0.0.1:`port` that trusts `tls.ca`; `onSecure` runs once the handshake is done. */
export function connectAdminTls(port: number, tls: AdminTls, onSecure?: () => void): TLSSocket {
  return connect({ host: '127.0.0.1', port, ca: tls.ca, checkServerIdentity: tls.checkServerIdentity }, onSecure);
}
