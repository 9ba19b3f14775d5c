// store.json, the store marker: written durably when a store is created, it says that this data dir
// holds a Weft store, so a data dir whose snapshot.json and wal.log vanished is told apart from a new
// one and never comes up empty without a word. It also keeps a revision known to be durable (updated
// when weftd opens the store, compacts it and stops), so a store found behind that revision has lost
// acknowledged writes, even when what is left of it looks intact.
import { join } from 'node:path';
import { readOptionalText, replaceFileDurably } from './durable-file.js';

export const MARKER_FILE = 'store.json';
const MARKER_FORMAT = 1;

export interface StoreMarker {
  /** When the store was created (ISO time). */
  createdAt: string;
  /** A revision this store has made durable; the store never goes back behind it. */
  durableRevision: number;
}

export type MarkerRead = { state: 'missing' } | { state: 'ok'; marker: StoreMarker } | { state: 'damaged'; problem: string };

export async function readMarker(dataDir: string): Promise<MarkerRead> {
  const path = join(dataDir, MARKER_FILE);
  const text = await readOptionalText(path);
  if (text === undefined) return { state: 'missing' };
  let value: { format?: unknown; createdAt?: unknown; durableRevision?: unknown };
  try {
    value = JSON.parse(text) as typeof value;
  } catch (e) {
    return { state: 'damaged', problem: `it is not valid JSON (${(e as Error).message})` };
  }
  if (typeof value !== 'object' || value === null) return { state: 'damaged', problem: 'it holds JSON but not an object' };
  if (value.format !== MARKER_FORMAT) return { state: 'damaged', problem: `its format is ${JSON.stringify(value.format)}, not ${MARKER_FORMAT}` };
  if (typeof value.createdAt !== 'string') return { state: 'damaged', problem: 'it has no createdAt' };
  if (!Number.isSafeInteger(value.durableRevision) || (value.durableRevision as number) < 0) {
    return { state: 'damaged', problem: `its durableRevision is ${JSON.stringify(value.durableRevision)}, not a revision number` };
  }
  return { state: 'ok', marker: { createdAt: value.createdAt, durableRevision: value.durableRevision as number } };
}

/** Writes the marker durably (see durable-file.ts). */
export function writeMarker(dataDir: string, marker: StoreMarker): Promise<void> {
  return replaceFileDurably(dataDir, MARKER_FILE, `${JSON.stringify({ format: MARKER_FORMAT, ...marker })}\n`);
}
