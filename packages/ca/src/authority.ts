// The signing side of the mesh CA: a CA certificate, its key and its chain up to a root. It makes a
// self-signed root, or takes an operator's CA (a root, or an intermediate with its chain), and signs
// workload and server certificates for identities the caller has already proved.
import { createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { CaError, quoted } from './errors.js';
import { buildCertificate, encodeName, keyIdentifier, randomSerial, subjectKeyIdentifierExtension, authorityKeyIdentifierExtension, type ExtensionSpec } from './certificate-builder.js';
import { readCertificatesPem, type CertificateInfo } from './certificate-reader.js';
import { verifyCsr } from './csr.js';
import { generatePrivateKey, type KeyAlgorithm } from './key-algorithm.js';
import { checkWorkloadKey, signatureAlgorithmFor, spkiOf, type SignatureAlgorithm } from './keys.js';
import { readPemBlocksOf } from './pem.js';
import { DEFAULT_TRUST_DOMAIN, toSpiffeId, validateTrustDomain, type SpiffeId } from './spiffe.js';

const DAY = 24 * 3600;
export const DEFAULT_ROOT_VALIDITY_SECONDS = 3650 * DAY;
export const DEFAULT_CERT_TTL_SECONDS = DAY;
export const DEFAULT_MAX_CERT_TTL_SECONDS = 90 * DAY;
/** notBefore is set this far back so a peer whose clock is a little behind still accepts a fresh certificate. */
export const CLOCK_SKEW_SECONDS = 60;

export interface CreateRootOptions {
  trustDomain?: string;
  keyAlgorithm?: KeyAlgorithm;
  validitySeconds?: number;
  now?: Date;
  maxTtlSeconds?: number;
}

export interface LoadAuthorityOptions {
  /** The CA certificate, optionally followed by its chain up to the root (PEM). */
  cert: string;
  /** The CA's private key (PEM, unencrypted PKCS#8, SEC1 or PKCS#1). */
  key: string;
  /** The rest of the chain up to and including the root, when not appended to `cert`. */
  chain?: string;
  trustDomain?: string;
  now?: Date;
  maxTtlSeconds?: number;
  /** Names the sources in messages, e.g. `{ cert: '/etc/weft/ca.crt', key: '/etc/weft/ca.key' }`. */
  sources?: { cert?: string; key?: string; chain?: string };
}

export interface SignOptions {
  /** Lifetime in seconds (default 24 h), at most the authority's maxTtlSeconds; clamped to the CA's own expiry. */
  ttlSeconds?: number;
  now?: Date;
}

export interface ServerCertificateOptions extends SignOptions {
  /** The key to certify (its public half is used). */
  publicKey: KeyObject;
  id: SpiffeId | string;
  dnsNames?: string[];
  ipAddresses?: string[];
}

export interface IssuedCertificate {
  readonly spiffeId: SpiffeId;
  /** The leaf alone (PEM). */
  readonly certificatePem: string;
  /** The leaf, then the CA chain up to and including the root (PEM): what a workload presents in TLS. */
  readonly chainPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serialNumber: string;
  /** SHA-256 fingerprint (hex) of the root this certificate chains to: the trust bundle's key. */
  readonly rootFingerprint: string;
}

export class CertificateAuthority {
  /** The CA certificate that signs, then its issuers up to the root (the last, self-signed). */
  readonly chain: readonly CertificateInfo[];
  readonly trustDomain: string;
  readonly maxTtlSeconds: number;
  private readonly signatureAlgorithm: SignatureAlgorithm;
  private readonly caName: Buffer;
  private readonly leafSubject: Buffer;
  private readonly leafNotAfterLimit: Date;
  private readonly akid: ExtensionSpec;
  private readonly caChainPem: string;
  private latestIssued: Date | null = null;

  private constructor(
    private readonly key: KeyObject,
    chain: CertificateInfo[],
    trustDomain: string,
    maxTtlSeconds: number,
  ) {
    this.chain = Object.freeze(chain);
    this.trustDomain = trustDomain;
    this.maxTtlSeconds = maxTtlSeconds;
    this.signatureAlgorithm = signatureAlgorithmFor(key); // fails now, not at the first signing, for a key type the CA cannot sign with
    this.caName = chain[0]!.subjectName;
    this.leafSubject = encodeName([['O', trustDomain]]);
    this.leafNotAfterLimit = new Date(Math.min(...chain.map((c) => c.notAfter.getTime())));
    this.akid = authorityKeyIdentifierExtension(chain[0]!.subjectKeyId ?? keyIdentifier(chain[0]!.subjectPublicKeyInfo));
    this.caChainPem = chain.map((c) => c.pem).join('');
  }

  /** A new self-signed root for `trustDomain` (EC P-256 and 10 years by default). */
  static createRoot(options: CreateRootOptions = {}): CertificateAuthority {
    const trustDomain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    validateTrustDomain(trustDomain);
    const validity = checkSeconds('validitySeconds', options.validitySeconds ?? DEFAULT_ROOT_VALIDITY_SECONDS, 3600, 100 * 365 * DAY);
    const now = options.now ?? new Date();
    const key = generatePrivateKey(options.keyAlgorithm ?? 'ec-p256');
    const spki = spkiOf(key);
    const ski = keyIdentifier(spki);
    // A distinct name for every root: after a rotation two roots of one trust domain coexist in the
    // bundle, and chain building looks issuers up by name first.
    const name = encodeName([['O', trustDomain], ['CN', `Weft mesh root CA ${randomBytes(4).toString('hex')}`]]);
    const built = buildCertificate({
      serial: randomSerial(),
      issuerName: name,
      subjectName: name,
      notBefore: new Date(now.getTime() - CLOCK_SKEW_SECONDS * 1000),
      notAfter: new Date(now.getTime() + validity * 1000),
      subjectPublicKeyInfo: spki,
      extensions: [
        { name: 'basicConstraints', critical: true, cA: true },
        { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true, digitalSignature: true },
        subjectKeyIdentifierExtension(ski),
      ],
      signingKey: key,
    });
    const cert = readCertificatesPem(built.pem, 'new root certificate', 'INVALID_CA')[0]!;
    return new CertificateAuthority(key, [cert], trustDomain, maxTtl(options.maxTtlSeconds));
  }

  /**
   * An operator's CA: a root, or an intermediate with its chain up to the root. Checks that the key
   * belongs to the certificate, that it is a CA allowed to sign certificates, that each certificate
   * is signed by the next, that the chain ends at a self-signed root, and that none is expired.
   */
  static fromPem(options: LoadAuthorityOptions): CertificateAuthority {
    const certSource = options.sources?.cert ?? 'CA certificate';
    const keySource = options.sources?.key ?? 'CA key';
    const trustDomain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    validateTrustDomain(trustDomain);
    const chain = readCertificatesPem(options.cert, certSource, 'INVALID_CA');
    if (options.chain !== undefined) chain.push(...readCertificatesPem(options.chain, options.sources?.chain ?? 'CA chain', 'INVALID_CA'));
    const key = readPrivateKey(options.key, keySource);
    const now = options.now ?? new Date();
    const signer = chain[0]!;
    if (!signer.x509.checkPrivateKey(key)) throw new CaError('INVALID_CA', `${keySource}: the key does not belong to the certificate in ${certSource} (subject ${quoted(signer.x509.subject)})`);
    chain.forEach((c, i) => {
      const what = `${certSource}: certificate ${i + 1} of the chain (subject ${quoted(c.x509.subject)})`;
      if (!c.isCa) throw new CaError('INVALID_CA', `${what} is not a CA (basicConstraints cA is not true): give a CA certificate, not a leaf`);
      if (!c.canSignCertificates) throw new CaError('INVALID_CA', `${what} may not sign certificates (its keyUsage lacks keyCertSign)`);
      if (now < c.notBefore) throw new CaError('INVALID_CA', `${what} is not valid before ${c.notBefore.toISOString()}`);
      if (now > c.notAfter) throw new CaError('INVALID_CA', `${what} expired at ${c.notAfter.toISOString()}: renew it`);
      const issuer = chain[i + 1] ?? c;
      if (!c.x509.checkIssued(issuer.x509) || !c.x509.verify(issuer.x509.publicKey)) {
        const expected = i + 1 < chain.length ? `certificate ${i + 2}` : 'itself (a root)';
        throw new CaError('INVALID_CA', `${what} is not signed by ${expected}: give the chain in order, from the CA certificate up to the root, and end it with the root`);
      }
    });
    signatureAlgorithmFor(key);
    return new CertificateAuthority(key, chain, trustDomain, maxTtl(options.maxTtlSeconds));
  }

  /** The certificate that signs. */
  get certificate(): CertificateInfo {
    return this.chain[0]!;
  }

  /** The self-signed root at the end of the chain: what goes into the trust bundle. */
  get root(): CertificateInfo {
    return this.chain[this.chain.length - 1]!;
  }

  /** The private key, PEM (PKCS#8), for persisting. */
  privateKeyPem(): string {
    return this.key.export({ format: 'pem', type: 'pkcs8' }) as string;
  }

  /** The latest notAfter this authority has issued since it was created or loaded (null: none yet). */
  get latestIssuedNotAfter(): Date | null {
    return this.latestIssued;
  }

  /**
   * Signs a workload's CSR into a certificate for `id`, the identity the caller proved (a join token, a
   * current certificate). Nothing in the CSR but its key is used. Throws INVALID_CSR or INVALID_SPIFFE_ID.
   */
  signCsr(csrPem: string, id: SpiffeId | string, options: SignOptions = {}): IssuedCertificate {
    const csr = verifyCsr(csrPem);
    return this.issue(csr.subjectPublicKeyInfo, this.identity(id), [], options);
  }

  /** A server certificate (weftd's own): the SPIFFE ID plus DNS names and IP addresses, for a key the caller holds. */
  issueServerCertificate(options: ServerCertificateOptions): IssuedCertificate {
    checkWorkloadKey(options.publicKey);
    const names = [
      ...(options.dnsNames ?? []).map((value) => ({ type: 2, value: checkDnsName(value) })),
      ...(options.ipAddresses ?? []).map((ip) => ({ type: 7, ip: checkIp(ip) })),
    ];
    return this.issue(spkiOf(options.publicKey), this.identity(options.id), names, options);
  }

  private identity(id: SpiffeId | string): SpiffeId {
    const parsed = toSpiffeId(id);
    if (parsed.trustDomain !== this.trustDomain) {
      throw new CaError('INVALID_SPIFFE_ID', `identity ${quoted(parsed.uri)} is in trust domain ${quoted(parsed.trustDomain)}, but this CA signs for ${quoted(this.trustDomain)}`);
    }
    return parsed;
  }

  private issue(spki: Buffer, id: SpiffeId, extraNames: object[], options: SignOptions): IssuedCertificate {
    const ttl = checkSeconds('ttlSeconds', options.ttlSeconds ?? Math.min(DEFAULT_CERT_TTL_SECONDS, this.maxTtlSeconds), 1, this.maxTtlSeconds);
    const now = options.now ?? new Date();
    // Whole seconds: that is all X.509 times hold, so the figures returned match the certificate.
    const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000 - CLOCK_SKEW_SECONDS * 1000);
    const notAfter = new Date(Math.floor(Math.min(now.getTime() + ttl * 1000, this.leafNotAfterLimit.getTime()) / 1000) * 1000);
    if (notAfter <= now) throw new CaError('INVALID_CA', `the CA certificate expires at ${this.leafNotAfterLimit.toISOString()}: it can no longer issue; renew or rotate the CA`);
    const serial = randomSerial();
    const built = buildCertificate({
      serial,
      issuerName: this.caName,
      subjectName: this.leafSubject,
      notBefore,
      notAfter,
      subjectPublicKeyInfo: spki,
      extensions: [
        { name: 'basicConstraints', critical: true, cA: false },
        { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
        this.akid,
        { name: 'subjectAltName', critical: false, altNames: [{ type: 6, value: id.uri }, ...extraNames] },
      ],
      signingKey: this.key,
      signatureAlgorithm: this.signatureAlgorithm,
    });
    if (this.latestIssued === null || notAfter > this.latestIssued) this.latestIssued = notAfter;
    const certificatePem = built.pem;
    return Object.freeze({
      spiffeId: id,
      certificatePem,
      chainPem: certificatePem + this.caChainPem,
      notBefore,
      notAfter,
      serialNumber: serial.toString('hex'),
      rootFingerprint: this.root.fingerprint,
    });
  }
}

function maxTtl(value: number | undefined): number {
  return checkSeconds('maxTtlSeconds', value ?? DEFAULT_MAX_CERT_TTL_SECONDS, 1, 365 * DAY);
}

function checkSeconds(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CaError('INVALID_OPTION', `${field} ${JSON.stringify(value)} is out of bounds: give whole seconds from ${min} to ${max}`);
  }
  return value;
}

function readPrivateKey(pem: string, source: string): KeyObject {
  if (typeof pem === 'string' && /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
    throw new CaError('INVALID_CA', `${source}: the key is encrypted; give it unencrypted, readable by weftd's user only (openssl pkey -in KEY -out KEY.plain; chmod 600 KEY.plain)`);
  }
  const blocks = readPemBlocksOf(pem, ['PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PARAMETERS'], source, 'INVALID_CA').filter((b) => b.label !== 'EC PARAMETERS');
  if (blocks.length !== 1) throw new CaError('INVALID_CA', `${source}: expected one private key, found ${blocks.length}`);
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new CaError('INVALID_CA', `${source}: the private key cannot be read (${(e as Error).message})`, { cause: e });
  }
}

const DNS_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;
function checkDnsName(name: string): string {
  if (typeof name !== 'string' || name.length > 253 || !DNS_NAME.test(name)) throw new CaError('INVALID_OPTION', `dnsNames: ${quoted(String(name))} is not a DNS name`);
  return name;
}

function checkIp(ip: string): string {
  if (typeof ip !== 'string' || !isIP(ip)) throw new CaError('INVALID_OPTION', `ipAddresses: ${quoted(String(ip))} is not an IPv4 or IPv6 address`);
  return ip;
}
