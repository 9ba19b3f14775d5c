/** One problem in a resource: where (a field path such as `spec.http[0].route[1].weight`) and what. */
export interface Issue {
  path: string;
  message: string;
}

const VALIDATION_BRAND = Symbol.for('weft.ValidationError');

/** A resource (or a batch of them) that Weft will not accept. Nothing of the batch is stored. */
export class ValidationError extends Error {
  readonly code = 'INVALID_RESOURCE';
  readonly [VALIDATION_BRAND] = true;
  constructor(
    readonly issues: Issue[],
    readonly source?: string,
  ) {
    super(formatIssues(issues, source));
    this.name = 'ValidationError';
  }
}

export function isValidationError(e: unknown): e is ValidationError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[VALIDATION_BRAND] === true;
}

export function formatIssues(issues: Issue[], source?: string): string {
  const prefix = source ? `${source}: ` : '';
  return issues.map((i) => `${prefix}${i.path ? i.path + ': ' : ''}${i.message}`).join('\n');
}

/**
 * Characters that must never reach a terminal raw: control characters (C0, DEL, C1) and the
 * bidirectional-format characters that reorder what a terminal shows (U+061C, U+200E/F,
 * U+202A–U+202E, U+2066–U+2069). A pattern without flags; add `g` to replace.
 */
export const UNPRINTABLE_PATTERN = '[\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]';
const UNPRINTABLE = new RegExp(UNPRINTABLE_PATTERN);
const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE_PATTERN, 'g');

/** Index of the first UNPRINTABLE_PATTERN character of `text`, or -1. */
export function findUnprintable(text: string): number {
  const m = UNPRINTABLE.exec(text);
  return m ? m.index : -1;
}

/** Replaces each UNPRINTABLE_PATTERN character with its `\uXXXX` escape (valid inside a JSON string). */
export function escapeUnprintable(text: string): string {
  return text.replace(UNPRINTABLE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A value quoted for an error message: JSON-style, with every UNPRINTABLE_PATTERN character escaped
 * (so a message cannot drive the reader's terminal), and cut to `max` characters with the full
 * length noted (so a 10 000-character value does not flood the message).
 */
export function quote(value: string, max = 80): string {
  if (value.length <= max) return escapeUnprintable(JSON.stringify(value));
  return `${escapeUnprintable(JSON.stringify(value.slice(0, max))).slice(0, -1)}…" (${value.length} characters)`;
}
