// PKCS#10 certificate signing requests. The workload makes its key and a CSR; the CA checks only that
// the CSR is signed by the key it carries (proof of possession) and that the key is one the mesh
// accepts. What the CSR asks for (subject, SANs, extensions) is never read: the identity comes from
// what the caller proved, not from the request.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { CaError } from './errors.js';
import { bitString, bitStringBytes, childrenOf, contextTag, fromDer, oidOf, sequence, smallInteger, toDer, Asn1Class } from './der.js';
import { checkWorkloadKey, signatureAlgorithmFor, signWith, spkiOf, verifyWith, VERIFY_DIGEST } from './keys.js';
import { derToPem, encodeName } from './certificate-builder.js';
import { readPemBlocksOf } from './pem.js';

/** At most this much PEM is read: a real CSR is under 2 KB; this bounds the work a caller can cause. */
export const MAX_CSR_PEM_BYTES = 16 * 1024;

export interface VerifiedCsr {
  /** The key the certificate will certify. */
  readonly publicKey: KeyObject;
  readonly subjectPublicKeyInfo: Buffer;
}

/** A CSR for `privateKey`, signed by it. The subject carries only an optional CN (the CA ignores it anyway). */
export function createCsr(privateKey: KeyObject, options: { commonName?: string } = {}): string {
  const alg = signatureAlgorithmFor(privateKey);
  const info = sequence([
    smallInteger(0),
    fromDer(encodeName(options.commonName ? [['CN', options.commonName]] : [])),
    fromDer(spkiOf(privateKey)),
    contextTag(0, true, []), // attributes: none
  ]);
  const signature = signWith(privateKey, alg, toDer(info));
  return derToPem(toDer(sequence([info, alg.identifier(), bitString(signature)])), 'CERTIFICATE REQUEST');
}

/**
 * Reads a CSR (PEM), checks its self-signature and its key. Throws INVALID_CSR saying what is wrong.
 * `source` names where the CSR came from (e.g. a workload) for the message.
 */
export function verifyCsr(pem: string, source = 'CSR'): VerifiedCsr {
  if (typeof pem !== 'string') throw new CaError('INVALID_CSR', `${source}: expected a PEM string, got ${typeof pem}`);
  if (pem.length > MAX_CSR_PEM_BYTES) throw new CaError('INVALID_CSR', `${source}: ${pem.length} bytes is more than a CSR needs (at most ${MAX_CSR_PEM_BYTES})`);
  const blocks = readPemBlocksOf(pem, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'], source, 'INVALID_CSR');
  if (blocks.length !== 1) throw new CaError('INVALID_CSR', `${source}: expected one CERTIFICATE REQUEST block, found ${blocks.length}`);
  let infoDer: Buffer, spki: Buffer, algOid: string, signature: Buffer;
  try {
    const req = childrenOf(fromDer(blocks[0]!.der), 'CertificationRequest');
    if (req.length !== 3) throw new Error('a CertificationRequest has 3 parts');
    const info = childrenOf(req[0], 'CertificationRequestInfo');
    if (info.length < 3 || (info[3] && !(info[3].tagClass === Asn1Class.CONTEXT_SPECIFIC && info[3].type === 0))) throw new Error('CertificationRequestInfo is malformed');
    infoDer = toDer(req[0]!);
    spki = toDer(info[2]!);
    algOid = oidOf(childrenOf(req[1], 'signatureAlgorithm')[0]!);
    signature = bitStringBytes(req[2]!);
  } catch (e) {
    throw new CaError('INVALID_CSR', `${source}: not a valid PKCS#10 certificate request (${(e as Error).message})`, { cause: e });
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (e) {
    throw new CaError('INVALID_CSR', `${source}: its public key cannot be read (${(e as Error).message})`, { cause: e });
  }
  checkWorkloadKey(publicKey);
  if (!(algOid in VERIFY_DIGEST)) throw new CaError('INVALID_CSR', `${source}: signature algorithm ${algOid} is not accepted: sign with ECDSA (SHA-256/384/512), RSA PKCS#1 v1.5 (SHA-256/384/512) or Ed25519`);
  if (!verifyWith(publicKey, VERIFY_DIGEST[algOid]!, infoDer, signature)) {
    throw new CaError('INVALID_CSR', `${source}: its signature does not verify with the key it carries (the CSR was altered or signed with another key)`);
  }
  return Object.freeze({ publicKey, subjectPublicKeyInfo: spki });
}
