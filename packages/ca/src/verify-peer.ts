// What a data-plane peer checks after (or instead of) the TLS stack's own chain check: that the chain
// leads to a root of the trust bundle, that every certificate on the path is in its validity period, and
// which SPIFFE ID the leaf carries. A client then compares that ID with the one registered for the
// endpoint: the server's identity, not its hostname, is what is checked.
import { X509Certificate } from 'node:crypto';
import { readCertificateDer, type CertificateInfo } from './certificate-reader.js';
import { isCaError } from './errors.js';
import { parseSpiffeId, type SpiffeId } from './spiffe.js';
import type { TrustBundle } from './trust-bundle.js';

export type PeerRejection = 'BAD_CERTIFICATE' | 'EXPIRED' | 'NOT_YET_VALID' | 'UNKNOWN_CA' | 'NO_SPIFFE_ID' | 'WRONG_TRUST_DOMAIN' | 'WRONG_IDENTITY';

export type PeerVerification =
  | { readonly ok: true; readonly id: SpiffeId; readonly notAfter: Date; readonly rootFingerprint: string }
  | { readonly ok: false; readonly reason: PeerRejection; readonly message: string };

export interface VerifyPeerOptions {
  /** Default: the bundle's trust domain. */
  trustDomain?: string;
  /** The identity registered for the endpoint: anything else is WRONG_IDENTITY. */
  expectedId?: SpiffeId | string;
  now?: Date;
}

/** A chain longer than this is refused: the mesh's own chains are 1-3 certificates. */
const MAX_PATH = 8;

/**
 * Verifies a peer's chain (leaf first, as `tlsSocket.getPeerX509Certificate()` and its `issuerCertificate`s
 * give it, or DER buffers) against `bundle`. Never throws for a bad peer: the answer says why.
 */
export function verifyPeer(chain: ReadonlyArray<X509Certificate | Buffer>, bundle: TrustBundle, options: VerifyPeerOptions = {}): PeerVerification {
  const now = options.now ?? new Date();
  const trustDomain = options.trustDomain ?? bundle.trustDomain;
  if (chain.length === 0) return reject('BAD_CERTIFICATE', 'the peer presented no certificate');
  if (chain.length > MAX_PATH) return reject('BAD_CERTIFICATE', `the peer presented ${chain.length} certificates (at most ${MAX_PATH})`);
  let certs: CertificateInfo[];
  try {
    certs = chain.map((c, i) => readCertificateDer(c instanceof X509Certificate ? c.raw : c, `peer certificate ${i + 1}`));
  } catch (e) {
    if (isCaError(e)) return reject('BAD_CERTIFICATE', e.message);
    throw e;
  }
  const leaf = certs[0]!;
  if (leaf.isCa) return reject('BAD_CERTIFICATE', `the peer's certificate (subject ${leaf.x509.subject || '(empty)'}) is a CA certificate, not a workload's`);

  // Walk from the leaf up: each step is a root of the bundle (done) or an intermediate the peer sent.
  let current = leaf;
  let anchor: CertificateInfo | undefined;
  for (let depth = 0; depth < MAX_PATH && !anchor; depth++) {
    const validity = checkValidity(current, now, depth === 0 ? "the peer's certificate" : `intermediate CA ${current.x509.subject}`);
    if (validity) return validity;
    anchor = bundle.roots.find((r) => issuedBy(current, r.certificate))?.certificate;
    if (anchor) break;
    const issuer = certs.find((c) => c !== current && c.isCa && c.canSignCertificates && issuedBy(current, c));
    if (!issuer) {
      return reject('UNKNOWN_CA', `the peer's certificate does not chain to a root of trust bundle version ${bundle.version} (issuer ${current.x509.issuer}): it comes from another CA, or from a root already dropped`);
    }
    current = issuer;
  }
  if (!anchor) return reject('UNKNOWN_CA', `no path of at most ${MAX_PATH} certificates leads to the trust bundle`);
  const rootValidity = checkValidity(anchor, now, `root CA ${anchor.x509.subject}`);
  if (rootValidity) return rootValidity;

  const spiffe = leaf.uris.filter((u) => u.startsWith('spiffe://'));
  if (spiffe.length !== 1 || leaf.uris.length !== 1) {
    return reject('NO_SPIFFE_ID', spiffe.length === 0 ? "the peer's certificate has no spiffe:// URI SAN" : `the peer's certificate has ${leaf.uris.length} URI SANs; a SPIFFE certificate has exactly one`);
  }
  let id: SpiffeId;
  try {
    id = parseSpiffeId(spiffe[0]!);
  } catch (e) {
    return reject('NO_SPIFFE_ID', `the peer's URI SAN is not a workload SPIFFE ID: ${(e as Error).message}`);
  }
  if (id.trustDomain !== trustDomain) return reject('WRONG_TRUST_DOMAIN', `the peer is ${id.uri}, of trust domain ${id.trustDomain}; this mesh is ${trustDomain}`);
  if (options.expectedId !== undefined) {
    const expected = typeof options.expectedId === 'string' ? options.expectedId : options.expectedId.uri;
    if (id.uri !== expected) return reject('WRONG_IDENTITY', `the peer is ${id.uri}, but the endpoint is registered for ${expected}`);
  }
  return Object.freeze({ ok: true as const, id, notAfter: leaf.notAfter, rootFingerprint: anchor.fingerprint });
}

function issuedBy(cert: CertificateInfo, issuer: CertificateInfo): boolean {
  if (!cert.issuerName.equals(issuer.subjectName)) return false;
  if (cert.authorityKeyId && issuer.subjectKeyId && !cert.authorityKeyId.equals(issuer.subjectKeyId)) return false;
  return cert.x509.verify(issuer.x509.publicKey);
}

function checkValidity(cert: CertificateInfo, now: Date, what: string): PeerVerification | null {
  if (now > cert.notAfter) return reject('EXPIRED', `${what} expired at ${cert.notAfter.toISOString()}`);
  if (now < cert.notBefore) return reject('NOT_YET_VALID', `${what} is not valid before ${cert.notBefore.toISOString()}`);
  return null;
}

function reject(reason: PeerRejection, message: string): PeerVerification {
  return Object.freeze({ ok: false as const, reason, message });
}
