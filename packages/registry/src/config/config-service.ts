// Config writes and reads over the store: validation, "unchanged" detection, all-or-nothing batches,
// the size limits that keep the stored config deliverable (every new workload's first ConfigUpdate is
// the whole of it), and warnings for references the state after the write leaves unresolved: those
// never refuse a write, since Istio's files must apply in any order (reference-warnings.ts).
import {
  CONFIG_RESOURCE_OVERHEAD_BYTES,
  isValidationError,
  lookupKind,
  MAX_RESOURCES_PER_BATCH,
  MAX_STORED_CONFIG_BYTES,
  resourceKey,
  validateResource,
  withNamespace,
  type Resource,
} from '@weft/api';
import type { FileStore } from '../store/file-store.js';
import type { StoredResource, StoreView } from '../store/stored-resource.js';
import { ConfigWriteError, type BatchIssue } from './config-errors.js';
import { referenceWarnings, type ConfigWarning } from './reference-warnings.js';
import { stableStringify } from './stable-json.js';

/** One document of an apply or delete batch, as sent by weftctl or parsed from a manifest. */
export interface BatchDocument {
  /** Where it came from (`file.yaml#2`), for error messages; defaults to its position in the batch. */
  source?: string;
  object: unknown;
}

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyResultItem {
  kind: string;
  namespace: string;
  name: string;
  action: ApplyAction;
  /** The resource's version after the write ('' in a dry run for what would be written). */
  resourceVersion: string;
}

export interface ApplyResult {
  revision: number;
  results: ApplyResultItem[];
  /** References left unresolved (IST0101): stored all the same, as Istio does. Empty when none. */
  warnings: ConfigWarning[];
}

export interface DeleteTarget {
  kind: string;
  namespace: string;
  name: string;
}

export interface DeleteResult {
  revision: number;
  deleted: DeleteTarget[];
  /** The targets that did not exist (always empty unless `missing: 'ignore'`). */
  missing: DeleteTarget[];
  /** References the delete leaves unresolved (a DestinationRule some VirtualService routes to); deleted all the same. */
  warnings: ConfigWarning[];
}

/**
 * What a delete does when some targets do not exist: 'fail' (the default) refuses the whole batch
 * with NOT_FOUND; 'ignore' deletes the ones that exist and lists the others (kubectl delete -f).
 */
export type MissingMode = 'fail' | 'ignore';

export class ConfigService {
  /** Typed form of each stored resource, or null when this weftd cannot validate it. */
  private readonly typed = new WeakMap<StoredResource, Resource | null>();

  constructor(
    readonly store: FileStore,
    private readonly warn: (message: string) => void = (m) => process.stderr.write(`weftd: ${m}\n`),
  ) {
    for (const r of store.values()) this.typedOf(r, true);
  }

  get revision(): number {
    return this.store.revision;
  }

  list(kind: string, namespace?: string): StoredResource[] {
    const out: StoredResource[] = [];
    for (const r of this.store.values()) if (r.kind === kind && (namespace === undefined || r.namespace === namespace)) out.push(r);
    return out.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  }

  get(kind: string, namespace: string, name: string): StoredResource | undefined {
    return this.store.get(resourceKey(kind, namespace, name));
  }

  /**
   * Validates and durably writes a batch. `namespace` fills metadata.namespace of documents without
   * one. Throws ConfigWriteError (nothing written) when any document is invalid or over a limit; a
   * reference that does not resolve is stored and reported in `warnings` (a dry run reports the same).
   */
  async apply(docs: BatchDocument[], opts: { namespace?: string; dryRun?: boolean } = {}): Promise<ApplyResult> {
    rejectLargeBatch(docs.length, 'apply');
    const resources = this.validateAll(docs, opts.namespace);
    // A warning about a document in this batch names that document's source (file#n).
    const sources = new Map(resources.map(({ source, resource: r }) => [resourceKey(r.kind, r.metadata.namespace, r.metadata.name), source]));
    const committed = await this.store.commit((view) => {
      const now = Date.now();
      const puts: StoredResource[] = [];
      const results: ApplyResultItem[] = [];
      for (const { resource } of resources) {
        const key = resourceKey(resource.kind, resource.metadata.namespace, resource.metadata.name);
        const object = storedObject(resource);
        const existing = view.get(key);
        const base = { kind: resource.kind, namespace: resource.metadata.namespace, name: resource.metadata.name };
        if (existing && stableStringify(existing.object) === stableStringify(object)) {
          results.push({ ...base, action: 'unchanged', resourceVersion: String(existing.resourceVersion) });
          continue;
        }
        const stored: StoredResource = {
          ...base,
          apiVersion: resource.apiVersion,
          resourceVersion: view.nextRevision,
          createdMs: existing?.createdMs ?? now,
          object,
        };
        this.typed.set(stored, resource);
        puts.push(stored);
        results.push({ ...base, action: existing ? 'configured' : 'created', resourceVersion: opts.dryRun ? '' : String(view.nextRevision) });
      }
      rejectOversizedConfig(view, puts);
      const warnings = this.warningsOf(view, puts, [], new Set(sources.keys()), sources);
      return { mutation: { puts: opts.dryRun ? [] : puts, deletes: [] }, value: { results, warnings } };
    });
    return { revision: committed.revision, ...committed.value };
  }

  /**
   * Deletes the targets atomically. With `missing: 'fail'` (the default) a missing target is a 404
   * (NOT_FOUND) naming the missing ones, and nothing is deleted; with 'ignore' the ones that exist are
   * deleted in one write and the others are listed in the result.
   */
  async delete(targets: DeleteTarget[], opts: { dryRun?: boolean; missing?: MissingMode } = {}): Promise<DeleteResult> {
    rejectLargeBatch(targets.length, 'delete');
    const committed = await this.store.commit((view) => {
      const keys = [...new Set(targets.map((t) => resourceKey(t.kind, t.namespace, t.name)))];
      const missingKeys = keys.filter((k) => !view.get(k));
      if (missingKeys.length > 0 && opts.missing !== 'ignore') {
        throw new ConfigWriteError('NOT_FOUND', `not found: ${missingKeys.map(describeKey).join(', ')}; nothing was deleted`);
      }
      const existing = keys.filter((k) => view.get(k));
      const warnings = this.warningsOf(view, [], existing, new Set());
      const deleted = existing.map((k) => {
        const r = view.get(k)!;
        return { kind: r.kind, namespace: r.namespace, name: r.name };
      });
      const missing = missingKeys.map((k) => targets.find((t) => resourceKey(t.kind, t.namespace, t.name) === k)!);
      return { mutation: { puts: [], deletes: opts.dryRun ? [] : existing }, value: { deleted, missing, warnings } };
    });
    return { revision: committed.revision, ...committed.value };
  }

  /** Turns documents of a delete batch into targets (only kind, metadata.name and namespace matter). */
  deleteTargets(docs: BatchDocument[], namespace?: string): DeleteTarget[] {
    const issues: BatchIssue[] = [];
    const targets: DeleteTarget[] = [];
    docs.forEach((doc, i) => {
      const source = doc.source ?? `resources[${i}]`;
      const o = (typeof doc.object === 'object' && doc.object !== null ? doc.object : {}) as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
      const kind = typeof o.kind === 'string' ? lookupKind(o.kind) : undefined;
      if (!kind) issues.push({ source, path: 'kind', message: typeof o.kind === 'string' ? `unsupported kind ${JSON.stringify(o.kind)}` : 'is required' });
      const name = o.metadata?.name;
      if (typeof name !== 'string' || !name) issues.push({ source, path: 'metadata.name', message: 'is required' });
      const ns = typeof o.metadata?.namespace === 'string' ? o.metadata.namespace : namespace ?? 'default';
      if (kind && typeof name === 'string' && name) targets.push({ kind: kind.kind, namespace: ns, name });
    });
    if (issues.length > 0) throw new ConfigWriteError('INVALID', 'invalid delete request', issues);
    return targets;
  }

  private validateAll(docs: BatchDocument[], namespace?: string): { source: string; resource: Resource }[] {
    const issues: BatchIssue[] = [];
    const out: { source: string; resource: Resource }[] = [];
    const seen = new Map<string, string>();
    docs.forEach((doc, i) => {
      const source = doc.source ?? `resources[${i}]`;
      try {
        const resource = validateResource(namespace ? withNamespace(doc.object, namespace) : doc.object);
        const key = resourceKey(resource.kind, resource.metadata.namespace, resource.metadata.name);
        const first = seen.get(key);
        if (first !== undefined) {
          issues.push({ source, path: 'metadata.name', message: `${describeKey(key)} is also defined by ${first} in this batch` });
          return;
        }
        seen.set(key, source);
        out.push({ source, resource });
      } catch (e) {
        if (!isValidationError(e)) throw e;
        for (const issue of e.issues) issues.push({ source, path: issue.path, message: issue.message });
      }
    });
    if (issues.length > 0) throw new ConfigWriteError('INVALID', 'invalid resources; nothing was applied', issues);
    return out;
  }

  /** Unresolved references of the state after the write that it should warn about (reference-warnings.ts). */
  private warningsOf(
    view: StoreView,
    puts: StoredResource[],
    deletes: string[],
    named: ReadonlySet<string>,
    sources?: ReadonlyMap<string, string>,
  ): ConfigWarning[] {
    const before = [...view.values()];
    const replaced = new Set([...deletes, ...puts.map((p) => resourceKey(p.kind, p.namespace, p.name))]);
    const after = [...before.filter((r) => !replaced.has(resourceKey(r.kind, r.namespace, r.name))), ...puts];
    return referenceWarnings({ before: this.typedAll(before), after: this.typedAll(after), named, ...(sources ? { sources } : {}) });
  }

  private typedAll(stored: StoredResource[]): Resource[] {
    const out: Resource[] = [];
    for (const r of stored) {
      const t = this.typedOf(r, false);
      if (t) out.push(t);
    }
    return out;
  }

  private typedOf(r: StoredResource, warnIfInvalid: boolean): Resource | null {
    let t = this.typed.get(r);
    if (t === undefined) {
      try {
        t = validateResource(r.object);
      } catch (e) {
        t = null;
        if (warnIfInvalid) this.warn(`stored ${describeKey(resourceKey(r.kind, r.namespace, r.name))} does not validate with this weftd; serving it as stored (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
      }
      this.typed.set(r, t);
    }
    return t;
  }
}

/** Bytes a stored resource counts toward MAX_STORED_CONFIG_BYTES: its JSON and a message's framing. */
const sizeCache = new WeakMap<StoredResource, number>();
export function configBytes(r: StoredResource): number {
  let n = sizeCache.get(r);
  if (n === undefined) {
    n = Buffer.byteLength(JSON.stringify(r.object)) + CONFIG_RESOURCE_OVERHEAD_BYTES;
    sizeCache.set(r, n);
  }
  return n;
}

function rejectLargeBatch(count: number, verb: 'apply' | 'delete'): void {
  if (count <= MAX_RESOURCES_PER_BATCH) return;
  throw new ConfigWriteError(
    'TOO_LARGE',
    `the ${verb} holds ${count} resources; one ${verb} may hold at most ${MAX_RESOURCES_PER_BATCH} (MAX_RESOURCES_PER_BATCH); split it into several; nothing was ${verb === 'apply' ? 'applied' : 'deleted'}`,
  );
}

/**
 * Refuses a write after which the stored config would be over MAX_STORED_CONFIG_BYTES: weftd must
 * be able to send all of it to every new workload. A write that makes the config smaller (or keeps
 * its size) always passes, so a store over the limit (from an older weftd) can be trimmed.
 */
function rejectOversizedConfig(view: StoreView, puts: readonly StoredResource[]): void {
  if (puts.length === 0) return;
  let before = 0;
  for (const r of view.values()) before += configBytes(r);
  let after = before;
  for (const p of puts) {
    const existing = view.get(resourceKey(p.kind, p.namespace, p.name));
    after += configBytes(p) - (existing ? configBytes(existing) : 0);
  }
  if (after <= MAX_STORED_CONFIG_BYTES || after <= before) return;
  throw new ConfigWriteError(
    'TOO_LARGE',
    `the stored config would be ${after} bytes after this apply (now ${before}); its limit is ${MAX_STORED_CONFIG_BYTES} bytes (MAX_STORED_CONFIG_BYTES), so that every workload can receive all of it; delete resources you no longer need first; nothing was applied`,
  );
}

/** The document as stored: Istio shape without server-set metadata. */
function storedObject(r: Resource): Record<string, unknown> {
  const { name, namespace, labels, annotations } = r.metadata;
  return {
    apiVersion: r.apiVersion,
    kind: r.kind,
    metadata: { name, namespace, ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) },
    spec: r.spec,
  };
}

function describeKey(key: string): string {
  const [kind, namespace, name] = key.split('/');
  const info = lookupKind(kind ?? '');
  return `${info ? `${info.singular}.${info.group}` : kind}/${name} (namespace ${namespace})`;
}
