// The small set of DER pieces the CA builds and reads, on forge's ASN.1 codec. Forge's own certificate
// object only knows RSA public keys, so certificates and CSRs are assembled here from forge's parts
// (names, extensions, times) around a SubjectPublicKeyInfo that Node's crypto exported.
import forge from 'node-forge';

const { asn1 } = forge;
export type Asn1 = forge.asn1.Asn1;

export const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ed25519: '1.3.101.112',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
} as const;

export function toDer(node: Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}

/** Parses DER strictly: trailing bytes or a bad length are an error (forge throws with its reason). */
export function fromDer(der: Buffer | Uint8Array): Asn1 {
  const buffer = forge.util.createBuffer(Buffer.from(der).toString('binary'));
  // Forge's typings know only the boolean form; the options form also stops it guessing inside BIT STRINGs.
  const node = asn1.fromDer(buffer, { strict: true, decodeBitStrings: false } as unknown as boolean);
  if (buffer.length() !== 0) throw new Error(`${buffer.length()} bytes after the end of the DER structure`);
  return node;
}

export function sequence(children: Asn1[]): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, children);
}

export function oid(value: string): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(value).getBytes());
}

export function nullValue(): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '');
}

export function bitString(bytes: Buffer): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\x00' + bytes.toString('binary'));
}

export function octetString(bytes: Buffer): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes.toString('binary'));
}

/** A positive INTEGER from big-endian bytes (a leading zero is added when the top bit is set). */
export function positiveInteger(bytes: Buffer): Asn1 {
  const body = bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, body.toString('binary'));
}

export function smallInteger(n: number): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(n).getBytes());
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
export function time(date: Date): Asn1 {
  const year = date.getUTCFullYear();
  return year < 2050
    ? asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

export function contextTag(tag: number, constructed: boolean, value: Asn1[] | string): Asn1 {
  return asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, constructed, value);
}

/** The raw bytes of a primitive node (OCTET STRING, INTEGER, …). */
export function bytesOf(node: Asn1): Buffer {
  return Buffer.from(node.value as string, 'binary');
}

/** The bytes inside a BIT STRING, without its unused-bits octet. */
export function bitStringBytes(node: Asn1): Buffer {
  if (node.type !== asn1.Type.BITSTRING || typeof node.value !== 'string') throw new Error('expected a BIT STRING');
  return Buffer.from(node.value.slice(1), 'binary');
}

export function oidOf(node: Asn1): string {
  if (node.type !== asn1.Type.OID || typeof node.value !== 'string') throw new Error('expected an OBJECT IDENTIFIER');
  return asn1.derToOid(node.value);
}

/** The children of a constructed node, or an error saying which structure was expected. */
export function childrenOf(node: Asn1 | undefined, what: string): Asn1[] {
  if (!node || !Array.isArray(node.value)) throw new Error(`expected ${what} to be a SEQUENCE`);
  return node.value as Asn1[];
}

export const Asn1Type = asn1.Type;
export const Asn1Class = asn1.Class;
