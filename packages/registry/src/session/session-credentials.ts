// TLS for the session port: weftd's own certificate (identity/weftd-certificate.ts), and a client
// certificate asked for but not required. A workload that holds a mesh certificate presents it, and
// OpenSSL checks it against the trust bundle (then grpc-js hands it to the session as its auth
// context); a workload still enrolling (a join token, no certificate yet) connects without one.
// grpc-js has no factory for "request, do not require", so this is its ServerCredentials with those
// options; a new certificate or bundle replaces the secure context for the next handshakes.
import * as grpc from '@grpc/grpc-js';
import type { ServingMaterial } from '../identity/weftd-certificate.js';

export class SessionServerCredentials extends grpc.ServerCredentials {
  constructor(material: ServingMaterial) {
    super({ requestCert: true, rejectUnauthorized: false }, contextOptions(material));
  }

  update(material: ServingMaterial): void {
    this.updateSecureContextOptions(contextOptions(material));
  }

  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

function contextOptions(m: ServingMaterial) {
  return { key: m.keyPem, cert: m.chainPem, ca: m.bundlePem };
}
