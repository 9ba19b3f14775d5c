// The embedded durable store: a snapshot file plus a write-ahead log in the data dir.
//
// A write batch is framed (record-framing.ts), appended to the log and fsync'd before its promise
// resolves, so an acknowledged write survives kill -9. Batches that arrive while an fsync is in flight
// are group-committed: prepared in order against an overlay, written together, one fsync.
// Compaction writes the whole state to snapshot.json.tmp, fsyncs it, renames it over snapshot.json,
// fsyncs the directory, and only then empties the log. Log records carry their revision, so records
// already covered by the snapshot are skipped at replay: a crash at any step leaves a loadable store.
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { decodeRecords, encodeRecord } from './record-framing.js';
import { applyMutation, StoreOverlay } from './store-overlay.js';
import { storedKey, type CommitResult, type StoreChange, type StoredResource, type StoreMutation, type StoreView } from './stored-resource.js';

export const SNAPSHOT_FILE = 'snapshot.json';
export const LOG_FILE = 'wal.log';
const SNAPSHOT_FORMAT = 1;

export interface FileStoreOptions {
  /** Compact when the log grows past this many bytes (default 8 MiB). */
  compactAfterBytes?: number;
  /** Where recovery notes (a torn tail cut off) go; default stderr. */
  warn?: (message: string) => void;
}

interface LogRecord {
  rev: number;
  put: StoredResource[];
  del: string[];
}

interface SnapshotFile {
  format: number;
  revision: number;
  resources: StoredResource[];
}

/** Builds a batch from the state it will apply to; throwing rejects only this batch. */
export type PrepareBatch<T> = (view: StoreView) => { mutation: StoreMutation; value: T };

interface PendingBatch {
  prepare: PrepareBatch<unknown>;
  resolve: (r: CommitResult<unknown>) => void;
  reject: (e: unknown) => void;
}

export class FileStore implements StoreView {
  private readonly resources = new Map<string, StoredResource>();
  private rev = 0;
  private logSize = 0;
  private queue: PendingBatch[] = [];
  private flushing: Promise<void> | undefined;
  private broken: Error | undefined;
  private closed = false;
  private readonly listeners: ((change: StoreChange) => void)[] = [];

  private constructor(
    readonly dataDir: string,
    private readonly lock: DataDirLock,
    private readonly log: FileHandle,
    private readonly compactAfterBytes: number,
  ) {}

  /** Opens (creating if needed) and locks a data dir, loads the snapshot and replays the log. */
  static async open(dataDir: string, opts: FileStoreOptions = {}): Promise<FileStore> {
    const warn = opts.warn ?? ((m: string) => process.stderr.write(`weftd: ${m}\n`));
    await mkdir(dataDir, { recursive: true });
    const lock = await lockDataDir(dataDir);
    try {
      const snapshot = await readSnapshot(join(dataDir, SNAPSHOT_FILE));
      const logPath = join(dataDir, LOG_FILE);
      await (await open(logPath, 'a')).close(); // create if missing
      const log = await open(logPath, 'r+');
      const store = new FileStore(dataDir, lock, log, opts.compactAfterBytes ?? 8 * 1024 * 1024);
      for (const r of snapshot.resources) store.resources.set(storedKey(r), r);
      store.rev = snapshot.revision;
      await store.replay(await readFile(logPath), warn);
      await fsyncDir(dataDir);
      return store;
    } catch (e) {
      await lock.release();
      throw e;
    }
  }

  get revision(): number {
    return this.rev;
  }

  get nextRevision(): number {
    return this.rev + 1;
  }

  get(key: string): StoredResource | undefined {
    return this.resources.get(key);
  }

  values(): Iterable<StoredResource> {
    return this.resources.values();
  }

  get size(): number {
    return this.resources.size;
  }

  /** Called after every durable change (once per group commit, with the final revision). */
  onChange(listener: (change: StoreChange) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Prepares and durably writes one atomic batch. Resolves only after the batch is fsync'd (or at
   * once when it changes nothing: no new revision then).
   */
  commit<T>(prepare: PrepareBatch<T>): Promise<CommitResult<T>> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    if (this.broken) return Promise.reject(this.broken);
    return new Promise<CommitResult<T>>((resolve, reject) => {
      this.queue.push({ prepare, resolve: resolve as (r: CommitResult<unknown>) => void, reject });
      this.startFlushing();
    });
  }

  private startFlushing(): void {
    if (this.flushing) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.startFlushing(); // arrived after the loop's last look
    });
  }

  /** Waits for queued writes, then releases the log and the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.log.close().catch(() => undefined);
    await this.lock.release();
  }

  /** Writes a snapshot and empties the log (also run automatically past the size threshold). */
  async compact(): Promise<void> {
    const snapshot: SnapshotFile = { format: SNAPSHOT_FORMAT, revision: this.rev, resources: [...this.resources.values()] };
    const finalPath = join(this.dataDir, SNAPSHOT_FILE);
    const tmpPath = `${finalPath}.tmp`;
    const tmp = await open(tmpPath, 'w');
    try {
      await tmp.writeFile(JSON.stringify(snapshot));
      await tmp.sync();
    } finally {
      await tmp.close();
    }
    await rename(tmpPath, finalPath);
    await fsyncDir(this.dataDir);
    // The snapshot now covers every record in the log; a crash before this truncate only leaves
    // records that replay skips by revision.
    await this.log.truncate(0);
    await this.log.sync();
    this.logSize = 0;
  }

  private async replay(log: Buffer, warn: (m: string) => void): Promise<void> {
    const decoded = decodeRecords(log);
    for (const payload of decoded.records) {
      const record = JSON.parse(payload.toString('utf8')) as LogRecord;
      if (record.rev <= this.rev) continue; // already in the snapshot
      if (record.rev !== this.rev + 1) {
        throw new Error(`store in ${this.dataDir} is inconsistent: log record for revision ${record.rev} follows revision ${this.rev}`);
      }
      applyMutation(this.resources, { puts: record.put, deletes: record.del });
      this.rev = record.rev;
    }
    if (decoded.validLength < log.length) {
      warn(`store: ignoring ${log.length - decoded.validLength} bytes at the end of ${LOG_FILE} (${decoded.tornReason}); that write was never acknowledged`);
      await this.log.truncate(decoded.validLength);
      await this.log.sync();
    }
    this.logSize = decoded.validLength;
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      await this.flushGroup(group);
      if (!this.broken && this.logSize > this.compactAfterBytes) {
        await this.compact().catch((e: unknown) => process.stderr.write(`weftd: store compaction failed (will retry later): ${String(e)}\n`));
      }
    }
  }

  private async flushGroup(group: PendingBatch[]): Promise<void> {
    if (this.broken) {
      for (const p of group) p.reject(this.broken);
      return;
    }
    const overlay = new StoreOverlay(this.resources, this.rev + 1);
    const frames: Buffer[] = [];
    const accepted: { p: PendingBatch; revision: number; wrote: boolean; value: unknown }[] = [];
    let rev = this.rev;
    for (const p of group) {
      let prepared: { mutation: StoreMutation; value: unknown };
      try {
        prepared = p.prepare(overlay);
      } catch (e) {
        p.reject(e);
        continue;
      }
      const { mutation } = prepared;
      if (mutation.puts.length === 0 && mutation.deletes.length === 0) {
        accepted.push({ p, revision: rev, wrote: false, value: prepared.value });
        continue;
      }
      rev++;
      const record: LogRecord = { rev, put: mutation.puts, del: mutation.deletes };
      frames.push(encodeRecord(Buffer.from(JSON.stringify(record), 'utf8')));
      overlay.apply(mutation);
      overlay.nextRevision = rev + 1;
      accepted.push({ p, revision: rev, wrote: true, value: prepared.value });
    }
    if (frames.length > 0) {
      const bytes = Buffer.concat(frames);
      try {
        await writeFully(this.log, bytes, this.logSize);
        await this.log.datasync();
      } catch (e) {
        // The log may now end in a partial frame; appending after it would hide later writes from
        // recovery, so the store refuses every further write until restarted.
        this.broken = new Error(`store write failed, refusing further writes until weftd restarts: ${String(e)}`);
        for (const a of accepted) a.p.reject(this.broken);
        return;
      }
      this.logSize += bytes.length;
      const changedKeys = [...overlay.changes.keys()];
      for (const [key, r] of overlay.changes) {
        if (r) this.resources.set(key, r);
        else this.resources.delete(key);
      }
      const previousRevision = this.rev;
      this.rev = rev;
      for (const l of this.listeners) {
        try {
          l({ previousRevision, revision: rev, changedKeys });
        } catch (e) {
          process.stderr.write(`weftd: store change listener failed: ${String(e)}\n`);
        }
      }
    }
    for (const a of accepted) a.p.resolve({ revision: a.revision, wrote: a.wrote, value: a.value });
  }
}

async function readSnapshot(path: string): Promise<SnapshotFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { format: SNAPSHOT_FORMAT, revision: 0, resources: [] };
    throw e;
  }
  const parsed = JSON.parse(text) as SnapshotFile;
  if (parsed.format !== SNAPSHOT_FORMAT) throw new Error(`${path}: unsupported snapshot format ${String(parsed.format)} (this weftd reads format ${SNAPSHOT_FORMAT})`);
  return parsed;
}

async function writeFully(fh: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, written, bytes.length - written, position + written);
    written += bytesWritten;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
