// Copy-on-write view used while group-committing: each batch of a group is prepared against the
// committed state plus the batches before it, without touching the committed state until the fsync.
import type { StoredResource, StoreMutation, StoreView } from './stored-resource.js';
import { storedKey } from './stored-resource.js';

export class StoreOverlay implements StoreView {
  /** key → new value, or null for a delete. */
  readonly changes = new Map<string, StoredResource | null>();

  constructor(
    private readonly base: ReadonlyMap<string, StoredResource>,
    public nextRevision: number,
  ) {}

  get(key: string): StoredResource | undefined {
    const changed = this.changes.get(key);
    if (changed !== undefined) return changed ?? undefined;
    return this.base.get(key);
  }

  *values(): Iterable<StoredResource> {
    for (const [key, r] of this.base) if (!this.changes.has(key)) yield r;
    for (const r of this.changes.values()) if (r) yield r;
  }

  apply(m: StoreMutation): void {
    for (const key of m.deletes) this.changes.set(key, null);
    for (const r of m.puts) this.changes.set(storedKey(r), r);
  }
}

/** Applies a mutation to a committed map (in place). */
export function applyMutation(target: Map<string, StoredResource>, m: StoreMutation): void {
  for (const key of m.deletes) target.delete(key);
  for (const r of m.puts) target.set(storedKey(r), r);
}
