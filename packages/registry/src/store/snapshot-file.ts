// snapshot.json: the whole store at one revision, written by compaction (and by --repair-store).
// It is written to a temporary file, fsync'd and renamed over the old one, so a crash leaves either
// the old or the new snapshot, never a mix: a snapshot that does not parse or check is damage, and
// reading it says what is wrong (store-inspection.ts adds the file's path and what to do).
import { join } from 'node:path';
import { readOptionalText, replaceFileDurably } from './durable-file.js';
import type { StoredResource } from './stored-resource.js';

export const SNAPSHOT_FILE = 'snapshot.json';
const SNAPSHOT_FORMAT = 1;

export interface Snapshot {
  revision: number;
  resources: StoredResource[];
}

export type SnapshotRead = { state: 'missing' } | { state: 'ok'; snapshot: Snapshot } | { state: 'damaged'; problem: string };

/** Reads and checks the snapshot. Throws only when the file cannot be read at all, or a newer weftd wrote it. */
export async function readSnapshot(dataDir: string): Promise<SnapshotRead> {
  const path = join(dataDir, SNAPSHOT_FILE);
  const text = await readOptionalText(path);
  if (text === undefined) return { state: 'missing' };
  const checked = checkSnapshot(text);
  if ('newerFormat' in checked) {
    // Not damage: nothing here may touch it, --repair-store included.
    throw new Error(`${path} has snapshot format ${JSON.stringify(checked.newerFormat)}, and this weftd reads format ${SNAPSHOT_FORMAT}: a newer weftd wrote it; run that version`);
  }
  return 'problem' in checked ? { state: 'damaged', problem: checked.problem } : { state: 'ok', snapshot: checked };
}

/** The snapshot a file's text holds, what is wrong with it, or the format of a newer weftd. */
export function checkSnapshot(text: string): Snapshot | { problem: string } | { newerFormat: number } {
  if (text.length === 0) return { problem: 'the file is empty' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { problem: `it is not valid JSON (${(e as Error).message}; the file has ${text.length} bytes): it is cut short or garbled` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'it holds JSON but not a snapshot object' };
  const s = value as { format?: unknown; revision?: unknown; resources?: unknown };
  if (typeof s.format === 'number' && Number.isInteger(s.format) && s.format > SNAPSHOT_FORMAT) return { newerFormat: s.format };
  if (s.format !== SNAPSHOT_FORMAT) return { problem: `its format field is ${JSON.stringify(s.format)}, not ${SNAPSHOT_FORMAT}` };
  if (!Number.isSafeInteger(s.revision) || (s.revision as number) < 0) return { problem: `its revision is ${JSON.stringify(s.revision)}, not a revision number` };
  if (!Array.isArray(s.resources)) return { problem: 'its resources field is not a list' };
  for (const [i, r] of (s.resources as unknown[]).entries()) {
    const bad = resourceProblem(r);
    if (bad) return { problem: `resources[${i}] ${bad}` };
  }
  return { revision: s.revision as number, resources: s.resources as StoredResource[] };
}

function resourceProblem(r: unknown): string | undefined {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'is not an object';
  const o = r as Record<string, unknown>;
  for (const field of ['kind', 'namespace', 'name', 'apiVersion']) if (typeof o[field] !== 'string') return `has no ${field}`;
  if (!Number.isSafeInteger(o.resourceVersion)) return 'has no resourceVersion';
  if (typeof o.object !== 'object' || o.object === null) return 'has no object';
  return undefined;
}

/** Writes the snapshot durably (see durable-file.ts). */
export function writeSnapshot(dataDir: string, snapshot: Snapshot): Promise<void> {
  return replaceFileDurably(dataDir, SNAPSHOT_FILE, JSON.stringify({ format: SNAPSHOT_FORMAT, revision: snapshot.revision, resources: snapshot.resources }));
}
