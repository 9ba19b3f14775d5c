// For tests of the validators: what validateResource says of a document, one `path: message` line
// per issue ([] when it is valid).
import { isValidationError } from './errors.js';
import { validateResource } from './validate.js';

export function validationIssues(doc: unknown): string[] {
  try {
    validateResource(doc);
  } catch (e) {
    if (!isValidationError(e)) throw e;
    return e.issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}
