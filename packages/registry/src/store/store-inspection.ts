// Reads everything a store's data dir holds (store.json, snapshot.json, wal.log) without changing
// it, and lists every reason it cannot be trusted as it is. FileStore.open refuses a store with a
// problem; --repair-store (store-repair.ts) starts from the same inspection.
//
// What the three files say together:
//   nothing there                         → a new store
//   wal.log, no store.json                → a store of a weftd from before store.json: fine, marked now
//   store.json, no snapshot.json, no log  → the store's files are gone: refused, never an empty store
//   snapshot.json, no wal.log             → weftd never deletes wal.log, so writes may be lost: refused
//   wal.log starts after the snapshot + 1 → revisions in neither file: refused
//   everything intact but behind store.json's durable revision → acknowledged writes lost: refused
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readMarker, MARKER_FILE, type MarkerRead } from './store-marker.js';
import { applyMutation } from './store-overlay.js';
import type { StoreProblem } from './store-open-error.js';
import { storedKey, type StoredResource } from './stored-resource.js';
import { readSnapshot, SNAPSHOT_FILE, type SnapshotRead } from './snapshot-file.js';
import { countOf, readLog, revisionsText, type LogReading } from './wal-reader.js';

export const LOG_FILE = 'wal.log';

export interface StoreInspection {
  dataDir: string;
  marker: MarkerRead;
  snapshot: SnapshotRead;
  /** wal.log as read (undefined when it is missing) and what it holds. */
  log: { bytes: Buffer; reading: LogReading } | undefined;
  /** The store made of what is intact: the snapshot, then the log records that follow it without a gap. */
  resources: Map<string, StoredResource>;
  revision: number;
  /** The highest revision any file mentions, intact or not: a repaired store continues after it. */
  highestKnownRevision: number;
  /** Nothing of a store is there yet. */
  isNew: boolean;
  problems: StoreProblem[];
}

export async function inspectStore(dataDir: string): Promise<StoreInspection> {
  const marker = await readMarker(dataDir);
  const snapshot = await readSnapshot(dataDir);
  const log = await readLogFile(join(dataDir, LOG_FILE));
  const problems: StoreProblem[] = [];
  const path = (file: string) => join(dataDir, file);

  const resources = new Map<string, StoredResource>();
  const base = snapshot.state === 'ok' ? snapshot.snapshot.revision : 0;
  if (snapshot.state === 'ok') for (const r of snapshot.snapshot.resources) resources.set(storedKey(r), r);
  let revision = base;
  const recordRevs: number[] = [];

  if (marker.state === 'damaged') {
    problems.push({ code: 'MARKER_DAMAGED', what: `${path(MARKER_FILE)} (the store marker) is damaged: ${marker.problem}`, repair: 'writes store.json again (this loses nothing)' });
  }
  if (snapshot.state === 'damaged') {
    problems.push({
      code: 'SNAPSHOT_DAMAGED',
      what: `${path(SNAPSHOT_FILE)} is damaged: ${snapshot.problem}`,
      repair: 'moves snapshot.json aside and keeps only what wal.log holds from revision 1 on (what only the snapshot held is lost; apply your manifests again)',
    });
  }
  if (log) {
    const { reading } = log;
    recordRevs.push(...reading.records.map((r) => r.record.rev), ...(reading.damage?.lostRevisions ?? []));
    if (reading.damage) problems.push(walDamage(path(LOG_FILE), log.bytes.length, reading, base));
    const newer = reading.records.filter((r) => r.record.rev > base);
    const first = newer[0]?.record.rev;
    if (first !== undefined && first !== base + 1 && snapshot.state !== 'damaged') {
      const missing = revisionRange(base + 1, first - 1);
      problems.push({
        code: 'REVISION_GAP',
        what:
          snapshot.state === 'missing'
            ? `${path(LOG_FILE)} begins at revision ${first}, but there is no ${SNAPSHOT_FILE} to hold ${missing} (${path(SNAPSHOT_FILE)} is missing)`
            : `${path(SNAPSHOT_FILE)} holds revision ${base}, but ${path(LOG_FILE)} begins at revision ${first}: ${missing} are in neither file (was ${SNAPSHOT_FILE} restored from an older backup?)`,
        repair: `keeps ${snapshot.state === 'ok' ? `${SNAPSHOT_FILE} (revision ${base})` : 'nothing'}, moves wal.log aside and loses its records (${revisionsText(newer.map((r) => r.record.rev))})`,
      });
    } else if (first === base + 1) {
      for (const r of newer) {
        applyMutation(resources, { puts: r.record.put, deletes: r.record.del });
        revision = r.record.rev;
      }
    }
  }

  const isNew = marker.state === 'missing' && snapshot.state === 'missing' && !log;
  if (!log && !isNew) {
    const durable = marker.state === 'ok' ? marker.marker.durableRevision : undefined;
    if (snapshot.state === 'missing') {
      const created = marker.state === 'ok' ? `, created ${marker.marker.createdAt}, durable up to revision ${durable}` : '';
      problems.push({
        code: 'STORE_FILES_MISSING',
        what: `${dataDir} held a Weft store (${path(MARKER_FILE)}${created}), but its ${SNAPSHOT_FILE} and ${LOG_FILE} are both missing; weftd will not start an empty store in their place`,
        repair: 'starts an empty store (every resource is lost; apply your manifests again)',
      });
    } else {
      const held = snapshot.state === 'ok' ? ` (revision ${base})` : '';
      const lost = durable !== undefined && durable > base ? `; ${MARKER_FILE} says revision ${durable} was durable` : '';
      problems.push({
        code: 'STORE_FILES_MISSING',
        what: `${path(LOG_FILE)} is missing, though ${SNAPSHOT_FILE}${held} is there; weftd never deletes ${LOG_FILE}, so the writes after the snapshot are lost${lost}`,
        repair: `continues from ${SNAPSHOT_FILE}${held} with a new, empty ${LOG_FILE}`,
      });
    }
  }

  if (problems.length === 0 && marker.state === 'ok' && revision < marker.marker.durableRevision) {
    const durable = marker.marker.durableRevision;
    problems.push({
      code: 'STORE_BEHIND',
      what:
        `${path(MARKER_FILE)} says revision ${durable} was made durable, but ${SNAPSHOT_FILE} and ${LOG_FILE} hold only up to revision ${revision}: ` +
        `the writes of ${revisionRange(revision + 1, durable)} are missing (files restored from an older backup, or the end of ${LOG_FILE} lost?)`,
      repair: `continues from revision ${revision} (the missing writes stay lost)`,
    });
  }

  const highestKnownRevision = Math.max(
    revision,
    base,
    marker.state === 'ok' ? marker.marker.durableRevision : 0,
    ...recordRevs,
  );
  return { dataDir, marker, snapshot, log, resources, revision, highestKnownRevision, isNew, problems };
}

function walDamage(logPath: string, size: number, reading: LogReading, base: number): StoreProblem {
  const damage = reading.damage!;
  const kept = reading.records.filter((r) => r.record.rev > base);
  const keptText = kept.length > 0 ? `the ${countOf(kept.length, 'record')} before byte ${damage.offset} (${revisionsText(kept.map((r) => r.record.rev))})` : `everything before byte ${damage.offset}`;
  const lost = damage.lostRevisions.filter((r) => r > base);
  const lostText = lost.length > 0 ? `the ${countOf(lost.length, 'intact record')} after the damage (${revisionsText(lost)})` : 'no intact record after it';
  return {
    code: 'WAL_DAMAGED',
    what: `${logPath} is damaged at byte ${damage.offset} (of ${size}): ${damage.problem}`,
    repair: `keeps ${keptText}, moves wal.log aside, and loses ${lostText} and whatever the damaged bytes held`,
  };
}

async function readLogFile(path: string): Promise<{ bytes: Buffer; reading: LogReading } | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  return { bytes, reading: readLog(bytes) };
}

function revisionRange(from: number, to: number): string {
  return from === to ? `revision ${from}` : `revisions ${from}-${to}`;
}
