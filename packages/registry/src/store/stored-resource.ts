// What the store keeps per config resource. The object is kept exactly as it was written (raw JSON),
// so a resource that a later (or earlier) weftd cannot validate is still served as stored.

export interface StoredResource {
  kind: string;
  namespace: string;
  name: string;
  apiVersion: string;
  /** Store revision of the last write of this resource. */
  resourceVersion: number;
  /** Creation time (ms since the epoch), kept across updates. */
  createdMs: number;
  /** The Istio-shaped document as applied (apiVersion, kind, metadata, spec), without server-set fields. */
  object: Record<string, unknown>;
}

export function storedKey(r: Pick<StoredResource, 'kind' | 'namespace' | 'name'>): string {
  return `${r.kind}/${r.namespace}/${r.name}`;
}

/** A read view of the store (committed state, or committed state plus the batches ahead in a group commit). */
export interface StoreView {
  /** The revision a write prepared against this view will get. */
  readonly nextRevision: number;
  get(key: string): StoredResource | undefined;
  values(): Iterable<StoredResource>;
}

/** One atomic write batch. */
export interface StoreMutation {
  puts: StoredResource[];
  deletes: string[];
}

export interface CommitResult<T> {
  /** Store revision after the batch (unchanged when the batch wrote nothing). */
  revision: number;
  /** True when the batch changed something (and so got a new revision). */
  wrote: boolean;
  value: T;
}

/** One durable change of the store (a group commit may cover several batches, so several revisions). */
export interface StoreChange {
  /** The revision before the change: what a delta of this change is based on. */
  previousRevision: number;
  revision: number;
  /** Keys written or deleted since previousRevision (look them up to tell which). */
  changedKeys: string[];
}
