// What a workload runs before it asks for a certificate: its own key (native, EC P-256 by default; it
// never leaves the process) and a CSR for it.
import type { KeyObject } from 'node:crypto';
import { createCsr } from './csr.js';
import { generatePrivateKey, type KeyAlgorithm } from './key-algorithm.js';

export interface WorkloadKey {
  readonly privateKey: KeyObject;
  /** PKCS#8 PEM, for `tls.createSecureContext({ key })`. */
  readonly privateKeyPem: string;
  readonly csrPem: string;
}

export function createWorkloadKey(algorithm: KeyAlgorithm = 'ec-p256'): WorkloadKey {
  const privateKey = generatePrivateKey(algorithm);
  return Object.freeze({
    privateKey,
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    csrPem: createCsr(privateKey),
  });
}
