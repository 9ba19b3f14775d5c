// Errors of config writes, as data the admin API turns into HTTP answers.

/** One problem of a write batch: which document (file#doc or kind/ns/name), which field, what. */
export interface BatchIssue {
  source: string;
  path: string;
  message: string;
}

const BRAND = Symbol.for('weft.ConfigWriteError');

/** A write batch refused as a whole; nothing of it was stored. */
export class ConfigWriteError extends Error {
  readonly [BRAND] = true;
  constructor(
    /** 'INVALID' (400), 'NOT_FOUND' (404) or 'TOO_LARGE' (413: over a limit of packages/api/src/limits.ts). */
    readonly code: 'INVALID' | 'NOT_FOUND' | 'TOO_LARGE',
    /** One line saying what happened; the issues say where. */
    readonly summary: string,
    readonly issues: BatchIssue[] = [],
  ) {
    super(issues.length > 0 ? `${summary}:\n${issues.map(formatBatchIssue).join('\n')}` : summary);
    this.name = 'ConfigWriteError';
  }
}

export function isConfigWriteError(e: unknown): e is ConfigWriteError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

export function formatBatchIssue(i: BatchIssue): string {
  return [i.source, i.path].filter(Boolean).join(' ') + `: ${i.message}`;
}
