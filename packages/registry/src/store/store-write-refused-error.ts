// The store refuses writes after a failed write to wal.log, until it has cut the log back to its
// last good length and the disk takes writes again (file-store.ts). The admin API and /healthz say why.
const BRAND = Symbol.for('weft.StoreWriteRefusedError');

export class StoreWriteRefusedError extends Error {
  readonly [BRAND] = true;
  readonly code = 'STORE_WRITE_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'StoreWriteRefusedError';
  }
}

export function isStoreWriteRefusedError(e: unknown): e is StoreWriteRefusedError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}
