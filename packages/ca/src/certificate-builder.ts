// Assembles and signs an X.509 v3 certificate: forge builds the names and extensions, Node's crypto
// signs the TBSCertificate. Works for any key type Node has (forge's own certificate API is RSA-only).
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { bitString, bitStringBytes, childrenOf, contextTag, fromDer, octetString, positiveInteger, sequence, smallInteger, time, toDer, type Asn1 } from './der.js';
import { signatureAlgorithmFor, signWith, type SignatureAlgorithm } from './keys.js';

/** Forge's extension encoders, which its typings leave out. */
interface ForgeExtensionCodec {
  certificateExtensionsToAsn1(exts: unknown[]): Asn1;
}
const extensionCodec = forge.pki as unknown as ForgeExtensionCodec;

/** One extension in forge's descriptive form, e.g. `{ name: 'keyUsage', critical: true, keyCertSign: true }`. */
export type ExtensionSpec = { name: string; critical?: boolean; [field: string]: unknown };

export interface CertificateSpec {
  serial: Buffer;
  /** The issuer's subject Name as DER, byte for byte (chain building compares it with the issuer's subject). */
  issuerName: Buffer;
  subjectName: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** SubjectPublicKeyInfo of the certified key, DER. */
  subjectPublicKeyInfo: Buffer;
  extensions: ExtensionSpec[];
  /** The key that signs: the issuer's (or the subject's own, for a self-signed root). */
  signingKey: KeyObject;
  /** The scheme for signingKey, when the caller has it already (finding it reads the key's details: ~7 % of a signing). */
  signatureAlgorithm?: SignatureAlgorithm;
}

export interface BuiltCertificate {
  der: Buffer;
  pem: string;
}

export function buildCertificate(spec: CertificateSpec): BuiltCertificate {
  const alg = spec.signatureAlgorithm ?? signatureAlgorithmFor(spec.signingKey);
  const tbs = sequence([
    contextTag(0, true, [smallInteger(2)]), // v3
    positiveInteger(spec.serial),
    alg.identifier(),
    fromDer(spec.issuerName),
    sequence([time(spec.notBefore), time(spec.notAfter)]),
    fromDer(spec.subjectName),
    fromDer(spec.subjectPublicKeyInfo),
    encodeExtensions(spec.extensions),
  ]);
  const tbsDer = toDer(tbs);
  const signature = signWith(spec.signingKey, alg, tbsDer);
  const der = toDer(sequence([tbs, alg.identifier(), bitString(signature)]));
  return { der, pem: derToPem(der, 'CERTIFICATE') };
}

export function encodeExtensions(exts: ExtensionSpec[]): Asn1 {
  // setExtensions fills in each extension's encoded value from its descriptive fields.
  const holder = forge.pki.createCertificate();
  holder.setExtensions(exts.map((e) => ({ ...e })));
  return extensionCodec.certificateExtensionsToAsn1(holder.extensions);
}

/** A Name of UTF8String attributes, in order: e.g. `[['O', 'cluster.local'], ['CN', 'Weft root']]`. */
export function encodeName(attributes: ReadonlyArray<readonly ['O' | 'OU' | 'CN', string]>): Buffer {
  const types = { O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3' };
  const name = forge.pki.distinguishedNameToAsn1({
    attributes: attributes.map(([short, value]) => ({ type: types[short], value: forge.util.encodeUtf8(value), valueTagClass: forge.asn1.Type.UTF8 }) as unknown as forge.pki.CertificateField),
  });
  return toDer(name);
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(subjectPublicKeyInfo: Buffer): Buffer {
  const bits = bitStringBytes(childrenOf(fromDer(subjectPublicKeyInfo), 'SubjectPublicKeyInfo')[1]!);
  return createHash('sha1').update(bits).digest();
}

export function subjectKeyIdentifierExtension(id: Buffer): ExtensionSpec {
  return { name: 'subjectKeyIdentifier', value: octetString(id) };
}

export function authorityKeyIdentifierExtension(id: Buffer): ExtensionSpec {
  return { name: 'authorityKeyIdentifier', value: sequence([contextTag(0, false, id.toString('binary'))]) };
}

/** 128 random bits, positive and non-zero (RFC 5280 allows 20 octets; CAs/Browser Forum asks for 64+ random bits). */
export function randomSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  return serial;
}

export function derToPem(der: Buffer, label: string): string {
  const b64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
