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
