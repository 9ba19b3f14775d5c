/**
 * What went wrong, as a stable string a caller can branch on (the message is for people):
 * - INVALID_SPIFFE_ID: a SPIFFE ID, trust domain, namespace or service account that is not well formed
 * - INVALID_CSR: a certificate signing request that is garbled, badly signed or uses a weak key
 * - INVALID_CA: a CA certificate or key that cannot sign (not a CA, expired, key does not match, …)
 * - INVALID_CERTIFICATE: a certificate or chain that cannot be read
 * - INVALID_OPTION: an option out of its bounds (a TTL, a validity, a key type)
 * - CA_FILE: a file of the CA directory that is missing, garbled or has unsafe permissions
 */
export type CaErrorCode = 'INVALID_SPIFFE_ID' | 'INVALID_CSR' | 'INVALID_CA' | 'INVALID_CERTIFICATE' | 'INVALID_OPTION' | 'CA_FILE';

const CA_ERROR_BRAND = Symbol.for('weft.CaError');

/** Every error @weft/ca throws on purpose. The brand lets `isCaError` work across two copies of the package. */
export class CaError extends Error {
  readonly [CA_ERROR_BRAND] = true;
  constructor(
    readonly code: CaErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CaError';
  }
}

export function isCaError(e: unknown): e is CaError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[CA_ERROR_BRAND] === true;
}

/** A value quoted for a message, cut so a huge input cannot flood it. */
export function quoted(value: string, max = 80): string {
  const shown = value.length <= max ? value : `${value.slice(0, max)}…`;
  return JSON.stringify(shown).replace(/[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
