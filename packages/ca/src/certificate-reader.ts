// Reads what the mesh needs from a certificate: Node's X509Certificate for signatures, keys and
// fingerprints; forge's ASN.1 for the parts Node only shows as display strings (SANs, key identifiers,
// exact Name bytes), so a URI SAN is read as the CA wrote it, never re-parsed from a printed form.
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { CaError, type CaErrorCode } from './errors.js';
import { Asn1Class, Asn1Type, bytesOf, childrenOf, fromDer, oidOf, toDer, type Asn1 } from './der.js';
import { readPemBlocksOf } from './pem.js';
import { derToPem } from './certificate-builder.js';

interface ForgeExtension {
  id: string;
  name?: string;
  critical: boolean;
  cA?: boolean;
  keyCertSign?: boolean;
  altNames?: Array<{ type: number; value: string; ip?: string }>;
}
const extensionDecoder = forge.pki as unknown as { certificateExtensionFromAsn1(ext: Asn1): ForgeExtension };

export interface CertificateInfo {
  readonly der: Buffer;
  readonly pem: string;
  readonly x509: X509Certificate;
  /** The issuer and subject Names as DER, byte for byte. */
  readonly issuerName: Buffer;
  readonly subjectName: Buffer;
  readonly subjectPublicKeyInfo: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** basicConstraints cA */
  readonly isCa: boolean;
  /** keyUsage has keyCertSign, or the certificate has no keyUsage (which RFC 5280 reads as any use). */
  readonly canSignCertificates: boolean;
  readonly uris: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly subjectKeyId: Buffer | null;
  readonly authorityKeyId: Buffer | null;
  /** SHA-256 of the DER, lower-case hex without colons. */
  readonly fingerprint: string;
  readonly serialNumber: string;
}

export function readCertificateDer(der: Buffer, source: string, code: CaErrorCode = 'INVALID_CERTIFICATE'): CertificateInfo {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch (e) {
    throw new CaError(code, `${source}: not a valid X.509 certificate (${(e as Error).message})`, { cause: e });
  }
  try {
    const cert = childrenOf(fromDer(der), 'Certificate');
    const tbs = childrenOf(cert[0], 'TBSCertificate');
    const hasVersion = tbs[0]!.tagClass === Asn1Class.CONTEXT_SPECIFIC && tbs[0]!.type === 0;
    const at = (i: number) => tbs[i + (hasVersion ? 0 : -1)]!;
    const validity = childrenOf(at(4), 'Validity');
    const info = {
      der,
      pem: derToPem(der, 'CERTIFICATE'),
      x509,
      issuerName: toDer(at(3)),
      subjectName: toDer(at(5)),
      subjectPublicKeyInfo: toDer(at(6)),
      notBefore: readTime(validity[0]!),
      notAfter: readTime(validity[1]!),
      isCa: false,
      canSignCertificates: true,
      uris: [] as string[],
      dnsNames: [] as string[],
      ipAddresses: [] as string[],
      subjectKeyId: null as Buffer | null,
      authorityKeyId: null as Buffer | null,
      fingerprint: x509.fingerprint256.replace(/:/g, '').toLowerCase(),
      serialNumber: x509.serialNumber.toLowerCase(),
    };
    const extensions = tbs.find((n) => n.tagClass === Asn1Class.CONTEXT_SPECIFIC && n.type === 3);
    for (const ext of extensions ? childrenOf(childrenOf(extensions, 'extensions')[0], 'Extensions') : []) {
      const parts = childrenOf(ext, 'Extension');
      const id = oidOf(parts[0]!);
      const value = bytesOf(parts[parts.length - 1]!);
      if (id === '2.5.29.14') info.subjectKeyId = bytesOf(fromDer(value));
      else if (id === '2.5.29.35') {
        const keyId = childrenOf(fromDer(value), 'AuthorityKeyIdentifier').find((n) => n.tagClass === Asn1Class.CONTEXT_SPECIFIC && n.type === 0);
        info.authorityKeyId = keyId ? bytesOf(keyId) : null;
      } else if (id === '2.5.29.19' || id === '2.5.29.17' || id === '2.5.29.15') {
        const decoded = extensionDecoder.certificateExtensionFromAsn1(ext);
        if (id === '2.5.29.19') info.isCa = decoded.cA === true;
        if (id === '2.5.29.15') info.canSignCertificates = decoded.keyCertSign === true;
        for (const alt of decoded.altNames ?? []) {
          if (alt.type === 6) info.uris.push(forge.util.decodeUtf8(alt.value));
          else if (alt.type === 2) info.dnsNames.push(alt.value);
          else if (alt.type === 7 && alt.ip) info.ipAddresses.push(alt.ip);
        }
      }
    }
    return Object.freeze(info);
  } catch (e) {
    if (e instanceof CaError) throw e;
    throw new CaError(code, `${source}: the certificate's structure cannot be read (${(e as Error).message})`, { cause: e });
  }
}

/** Every certificate of a PEM text (a chain: leaf first). */
export function readCertificatesPem(pem: string, source: string, code: CaErrorCode = 'INVALID_CERTIFICATE'): CertificateInfo[] {
  return readPemBlocksOf(pem, ['CERTIFICATE'], source, code).map((b, i, all) => readCertificateDer(b.der, all.length > 1 ? `${source} (certificate ${i + 1})` : source, code));
}

function readTime(node: Asn1): Date {
  if (node.type === Asn1Type.UTCTIME) return forge.asn1.utcTimeToDate(node.value as string);
  if (node.type === Asn1Type.GENERALIZEDTIME) return forge.asn1.generalizedTimeToDate(node.value as string);
  throw new Error('expected a UTCTime or GeneralizedTime');
}
