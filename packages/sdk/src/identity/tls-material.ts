// What the data plane's TLS needs from the workload's identity, built once per certificate or bundle
// change: the key, the chain, the bundle (as PEM for OpenSSL and as a TrustBundle for verifyPeer) and a
// server SecureContext. `generation` grows with every change, so a client keys its pools by it (new
// connections after a renewal use the new certificate) and a server makes each new connection's context
// from the material current when it arrives (no restart, no failed handshake).
import tls from 'node:tls';
import { readCertificatesPem, TrustBundle } from '@weft/ca';

export interface TlsMaterial {
  readonly generation: number;
  readonly keyPem: string;
  readonly chainPem: string;
  readonly bundlePem: string;
  readonly bundle: TrustBundle;
  /** The workload's own SPIFFE ID (its trust domain is the mesh's). */
  readonly spiffeId: string;
  readonly trustDomain: string;
  /** For accepted connections: this chain and key, client certificates requested and checked against the bundle. */
  readonly serverContext: tls.SecureContext;
}

export function buildTlsMaterial(generation: number, keyPem: string, chainPem: string, bundlePems: readonly string[], spiffeId: string): TlsMaterial {
  const trustDomain = new URL(spiffeId).host;
  const roots = bundlePems.flatMap((pem, i) => readCertificatesPem(pem, `trust bundle root ${i + 1}`));
  let bundle = TrustBundle.create(trustDomain, roots[0]!);
  for (const root of roots.slice(1)) bundle = bundle.rotateTo(root);
  const bundlePem = bundlePems.join('');
  // A session id context is what OpenSSL requires before it resumes a session whose client presented a
  // certificate (tls.Server sets one itself; a TLSSocket made by hand gets it from its context).
  const serverContext = tls.createSecureContext({ key: keyPem, cert: chainPem, ca: bundlePem, minVersion: 'TLSv1.2', sessionIdContext: 'weft-mtls' });
  return Object.freeze({ generation, keyPem, chainPem, bundlePem, bundle, spiffeId, trustDomain, serverContext });
}
