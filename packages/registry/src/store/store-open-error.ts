// Why weftd refuses to open a store: each problem names its file and what is wrong, and the error
// says what the operator can do. Opening changes nothing on disk when it refuses.
const BRAND = Symbol.for('weft.StoreOpenError');

export type StoreProblemCode =
  | 'MARKER_DAMAGED'
  | 'SNAPSHOT_DAMAGED'
  | 'WAL_DAMAGED'
  | 'STORE_FILES_MISSING'
  | 'REVISION_GAP'
  | 'STORE_BEHIND';

export interface StoreProblem {
  code: StoreProblemCode;
  /** What is wrong, naming the file and, in a log, the byte offset. */
  what: string;
  /** What `weftd --repair-store` does about it, and what that loses. */
  repair: string;
}

export class StoreOpenError extends Error {
  readonly [BRAND] = true;
  /** The code of the first problem. */
  readonly code: StoreProblemCode;

  constructor(
    readonly dataDir: string,
    readonly problems: readonly StoreProblem[],
  ) {
    super(describeProblems(dataDir, problems));
    this.name = 'StoreOpenError';
    this.code = problems[0]!.code;
  }
}

export function isStoreOpenError(e: unknown): e is StoreOpenError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

function describeProblems(dataDir: string, problems: readonly StoreProblem[]): string {
  const what = problems.length === 1 ? problems[0]!.what : problems.map((p) => `\n  - ${p.what}`).join('');
  const repair = problems.map((p) => p.repair).join('; ');
  return (
    `the store cannot be opened safely: ${what}\n` +
    `weftd changed nothing in ${dataDir}. Either restore the data dir from a backup (copied while weftd was stopped), ` +
    `or run 'weftd --repair-store --data-dir ${dataDir}', which ${repair}.`
  );
}
