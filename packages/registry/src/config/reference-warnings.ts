// Warnings of config writes: references across resources that do not resolve (a VirtualService
// routing to a subset no DestinationRule defines). Istio stores such files and reports them with
// `istioctl analyze` (IST0101), so that its files apply in any order; weftd does the same: the write
// goes through, and its answer lists these warnings for weftctl to print.
import { checkReferences, resourceKey, type ReferenceIssue, type Resource } from '@weft/api';

/** One warning of a write, as the admin API returns it under `warnings`. */
export interface ConfigWarning {
  /** Where the resource came from in this batch (`file.yaml#2`); absent for a resource the batch did not hold. */
  source?: string;
  kind: string;
  namespace: string;
  name: string;
  /** The field holding the reference, e.g. `spec.http[0].route[1].destination.subset`. */
  path: string;
  message: string;
  /** Istio's analyzer code: `IST0101` (ReferencedResourceNotFound). */
  code: string;
}

export interface WriteReferences {
  /** Every resource stored before the write. */
  before: Iterable<Resource>;
  /** Every resource stored after it. */
  after: Iterable<Resource>;
  /** resourceKey of each resource the batch named (written or unchanged); their problems are always reported. */
  named: ReadonlySet<string>;
  /** resourceKey → the batch document it came from. */
  sources?: ReadonlyMap<string, string>;
}

/**
 * The unresolved references a write should warn about: every one of a resource the batch named
 * (re-applying a VirtualService that still routes nowhere says so again, as istioctl analyze would),
 * and every one the write introduced elsewhere (a DestinationRule deleted or changed under a
 * VirtualService that uses it). Problems of resources the batch left alone that were there before
 * are not repeated on every write.
 */
export function referenceWarnings(w: WriteReferences): ConfigWarning[] {
  const after = checkReferences(w.after);
  if (after.length === 0) return [];
  const ofNamed = (i: ReferenceIssue) => w.named.has(resourceKey(i.kind, i.namespace, i.name));
  // The state before only matters for problems of resources outside the batch.
  const existing = after.every(ofNamed) ? new Set<string>() : new Set(checkReferences(w.before).map(issueKey));
  const out: ConfigWarning[] = [];
  for (const i of after) {
    if (!ofNamed(i) && existing.has(issueKey(i))) continue;
    const source = w.sources?.get(resourceKey(i.kind, i.namespace, i.name));
    out.push({ ...(source !== undefined ? { source } : {}), kind: i.kind, namespace: i.namespace, name: i.name, path: i.path, message: i.message, code: i.code });
  }
  return out;
}

function issueKey(i: ReferenceIssue): string {
  return `${i.kind}/${i.namespace}/${i.name} ${i.path}: ${i.message}`;
}
