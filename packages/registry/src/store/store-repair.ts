// `weftd --repair-store`: the operator's explicit act that makes a refused store usable again, losing
// what cannot be kept and saying exactly what that is. It keeps what is intact (the snapshot and the
// log records before any damage), moves damaged files aside (`wal.log.damaged-<time>`, never
// deleted), writes a clean snapshot.json, an empty wal.log and store.json. A repaired store continues
// at a revision above every revision any file mentioned, so no revision number means two things.
import { access, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from './durable-file.js';
import { lockDataDir } from './data-dir-lock.js';
import { writeSnapshot, SNAPSHOT_FILE } from './snapshot-file.js';
import { inspectStore, LOG_FILE, type StoreInspection } from './store-inspection.js';
import { MARKER_FILE, writeMarker } from './store-marker.js';
import { countOf, revisionsText } from './wal-reader.js';

export interface RepairReport {
  /** False when there was nothing to repair (nothing was changed). */
  repaired: boolean;
  /** What was found and done, one line each, for the operator. */
  lines: string[];
  /** Revision and size of the store afterwards. */
  revision: number;
  resources: number;
  /** Revisions of intact log records that the repair could not keep. */
  lostRevisions: number[];
  /** Files moved aside, as their new names in the data dir. */
  movedAside: string[];
}

export async function repairStore(dataDir: string, now = new Date()): Promise<RepairReport> {
  await access(dataDir).catch(() => {
    throw new Error(`there is no data dir ${dataDir} to repair (check --data-dir)`);
  });
  const lock = await lockDataDir(dataDir);
  try {
    const found = await inspectStore(dataDir);
    if (found.problems.length === 0) {
      const torn = found.log?.reading.tornTail ? `; the torn end of its last write (${found.log.reading.tornTail.bytes} bytes, never acknowledged) is cut off when weftd starts, as always` : '';
      const state = found.isNew ? `${dataDir} holds no store yet` : `the store in ${dataDir} is intact (revision ${found.revision}, ${found.resources.size} resources)${torn}`;
      return {
        repaired: false,
        lines: [`nothing to repair: ${state}`],
        revision: found.revision,
        resources: found.resources.size,
        lostRevisions: [],
        movedAside: [],
      };
    }
    return await repair(found, now);
  } finally {
    await lock.release();
  }
}

async function repair(found: StoreInspection, now: Date): Promise<RepairReport> {
  const { dataDir } = found;
  const lines = found.problems.map((p) => `found: ${p.what}`);
  const stamp = now.toISOString().replace(/:/g, '-'); // ':' is not allowed in Windows file names
  const movedAside: string[] = [];
  const moveAside = async (file: string) => {
    const to = `${file}.damaged-${stamp}`;
    await rename(join(dataDir, file), join(dataDir, to));
    movedAside.push(to);
    lines.push(`moved ${file} aside to ${join(dataDir, to)} (kept for inspection; weftd does not read it)`);
  };
  const codes = new Set(found.problems.map((p) => p.code));
  const onlyMarker = codes.size === 1 && codes.has('MARKER_DAMAGED');
  const revision = onlyMarker ? found.revision : found.highestKnownRevision + 1;

  if (codes.has('MARKER_DAMAGED')) await moveAside(MARKER_FILE);
  if (!onlyMarker) {
    if (codes.has('SNAPSHOT_DAMAGED')) await moveAside(SNAPSHOT_FILE);
    const logUnused = codes.has('WAL_DAMAGED') || codes.has('REVISION_GAP') || codes.has('SNAPSHOT_DAMAGED');
    if (found.log && logUnused) await moveAside(LOG_FILE);
    // The snapshot holds everything kept; the log starts empty (its intact records are in the snapshot).
    await writeSnapshot(dataDir, { revision, resources: [...found.resources.values()] });
    const log = await open(join(dataDir, LOG_FILE), 'w');
    try {
      await log.sync();
    } finally {
      await log.close();
    }
    await fsyncDir(dataDir);
  }
  const createdAt = found.marker.state === 'ok' ? found.marker.marker.createdAt : now.toISOString();
  await writeMarker(dataDir, { createdAt, durableRevision: revision });

  for (const p of found.problems) lines.push(`repaired: ${p.repair}`);
  const recordRevs = [...(found.log?.reading.records.map((r) => r.record.rev) ?? []), ...(found.log?.reading.damage?.lostRevisions ?? [])];
  const lostRevisions = [...new Set(recordRevs.filter((r) => r > found.revision))].sort((a, b) => a - b);
  lines.push(
    lostRevisions.length > 0
      ? `lost: ${countOf(lostRevisions.length, 'intact record')} that could not be kept (${revisionsText(lostRevisions)}), and whatever damaged bytes held`
      : 'lost: no intact record (only what damaged or missing bytes held, if anything)',
  );
  const durable = found.marker.state === 'ok' ? found.marker.marker.durableRevision : 0;
  if (!onlyMarker && durable > found.revision) lines.push(`store.json had recorded revision ${durable} as durable: the writes after revision ${found.revision} are gone`);
  lines.push(
    `the store in ${dataDir} now holds ${found.resources.size} resources at revision ${revision}` +
      (revision > found.revision ? ` (above revision ${found.highestKnownRevision}, the highest any file mentioned, so no revision number is reused)` : ''),
  );
  return { repaired: true, lines, revision, resources: found.resources.size, lostRevisions, movedAside };
}
