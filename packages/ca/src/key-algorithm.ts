// Key generation, native (OpenSSL). Apart from keys.ts so the package's public types do not reach
// forge's (a user of @weft/ca needs no @types/node-forge).
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { CaError } from './errors.js';

/** Key types the CA makes. EC P-256 is the default everywhere (Istio's default, and the fastest). */
export type KeyAlgorithm = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'];

export function generatePrivateKey(algorithm: KeyAlgorithm = 'ec-p256'): KeyObject {
  switch (algorithm) {
    case 'ec-p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    case 'ec-p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096':
      return generateKeyPairSync('rsa', { modulusLength: Number(algorithm.slice(4)), publicExponent: 65537 }).privateKey;
    default:
      throw new CaError('INVALID_OPTION', `key algorithm ${JSON.stringify(algorithm)} is not supported: use one of ${KEY_ALGORITHMS.join(', ')}`);
  }
}
