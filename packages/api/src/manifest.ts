// Reading multi-document YAML (or JSON) manifests as `kubectl apply -f` does.
import { parseAllDocuments } from 'yaml';
import { ValidationError, type Issue } from './errors.js';
import { validateResource } from './validate.js';
import type { Resource } from './resources.js';

export interface ManifestDocument {
  /** Where it came from: `file.yaml#2` (1-based document number) or `-#1` for stdin. */
  source: string;
  resource: Resource;
}

/**
 * Parses every document of a manifest and validates it. Empty documents are skipped. Throws one
 * ValidationError listing the problems of every document (each prefixed with file and document
 * number), so a batch is accepted whole or not at all. `defaultNamespace` (like `kubectl apply -n`)
 * fills metadata.namespace of documents that name none; without it they get DEFAULT_NAMESPACE.
 */
export function parseManifest(text: string, file = '-', defaultNamespace?: string): ManifestDocument[] {
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const out: ManifestDocument[] = [];
  const issues: Issue[] = [];
  let n = 0;
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    n++;
    const source = `${file}#${n}`;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) issues.push({ path: source, message: `YAML: ${e.message.split('\n')[0]}` });
      continue;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    const items = isList(value) ? (value.items as unknown[]) : [value];
    items.forEach((item, k) => {
      const src = isList(value) ? `${source}.items[${k}]` : source;
      try {
        out.push({ source: src, resource: validateResource(defaultNamespace ? withNamespace(item, defaultNamespace) : item) });
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        for (const i of e.issues) issues.push({ path: `${src} ${describe(item)}${i.path ? ' ' + i.path : ''}`, message: i.message });
      }
    });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return out;
}

function isList(v: unknown): v is { kind: 'List'; items: unknown[] } {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'List' && Array.isArray((v as { items?: unknown }).items);
}

function describe(doc: unknown): string {
  const d = doc as { kind?: unknown; metadata?: { name?: unknown } } | null;
  const kind = typeof d?.kind === 'string' ? d.kind : '?';
  const name = typeof d?.metadata?.name === 'string' ? d.metadata.name : '?';
  return `(${kind} ${name})`;
}

/** A copy of a document with metadata.namespace set when it has none (documents that are not maps are left alone). */
export function withNamespace(doc: unknown, namespace: string): unknown {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return doc;
  const d = doc as { metadata?: unknown };
  if (typeof d.metadata !== 'object' || d.metadata === null || Array.isArray(d.metadata)) return doc;
  const meta = d.metadata as { namespace?: unknown };
  if (meta.namespace !== undefined) return doc;
  return { ...d, metadata: { ...meta, namespace } };
}
