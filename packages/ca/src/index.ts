// @weft/ca: the mesh CA as a library. No network: weftd decides who may ask for what, this package
// checks CSRs, signs certificates, keeps the roots and verifies peers.
export { CaError, isCaError, type CaErrorCode } from './errors.js';
export { DEFAULT_TRUST_DOMAIN, parsePrincipal, parseSpiffeId, spiffeId, toSpiffeId, validateTrustDomain, type SpiffeId } from './spiffe.js';
export { generatePrivateKey, KEY_ALGORITHMS, type KeyAlgorithm } from './key-algorithm.js';
export { createCsr, verifyCsr, MAX_CSR_PEM_BYTES, type VerifiedCsr } from './csr.js';
export { readCertificatesPem, readCertificateDer, type CertificateInfo } from './certificate-reader.js';
export {
  CertificateAuthority,
  CLOCK_SKEW_SECONDS,
  DEFAULT_CERT_TTL_SECONDS,
  DEFAULT_MAX_CERT_TTL_SECONDS,
  DEFAULT_ROOT_VALIDITY_SECONDS,
  type CreateRootOptions,
  type IssuedCertificate,
  type LoadAuthorityOptions,
  type ServerCertificateOptions,
  type SignOptions,
} from './authority.js';
export { TrustBundle, type BundleRoot, type TrustBundleJson } from './trust-bundle.js';
export { verifyPeer, type PeerRejection, type PeerVerification, type VerifyPeerOptions } from './verify-peer.js';
export { CaDirectory, TRUST_BUNDLE_FILE, type CaDirectoryOptions } from './ca-directory.js';
export { createWorkloadKey, type WorkloadKey } from './workload-key.js';
export { writeFileAtomic } from './atomic-file.js';
