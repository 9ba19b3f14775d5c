// The embedded durable store: a snapshot file plus a write-ahead log in the data dir, and store.json,
// the marker that says a store lives there (store-marker.ts).
//
// A write batch is framed (record-framing.ts), appended to the log and fsync'd before its promise
// resolves, so an acknowledged write survives kill -9. Batches that arrive while an fsync is in flight
// are group-committed: prepared in order against an overlay, written together, one fsync.
// Compaction writes the whole state to snapshot.json (durably, see durable-file.ts) and only then
// empties the log. Log records carry their revision, so records already covered by the snapshot are
// skipped at replay: a crash at any step leaves a loadable store.
//
// Opening refuses a store that cannot be trusted as it is (store-inspection.ts): a damaged log or
// snapshot, missing files, revisions missing. Only a torn tail, the unacknowledged end of the last
// write, is cut off by itself. Repair is an explicit act of the operator (store-repair.ts).
import { mkdir, open, rmdir, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fsyncDir } from './durable-file.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { encodeRecord } from './record-framing.js';
import { writeSnapshot } from './snapshot-file.js';
import { inspectStore, LOG_FILE } from './store-inspection.js';
import { MARKER_FILE, writeMarker } from './store-marker.js';
import { StoreOpenError } from './store-open-error.js';
import { StoreOverlay } from './store-overlay.js';
import { StoreWriteRefusedError } from './store-write-refused-error.js';
import type { CommitResult, StoreChange, StoredResource, StoreMutation, StoreView } from './stored-resource.js';
import type { LogRecord } from './wal-reader.js';

export { LOG_FILE } from './store-inspection.js';
export { SNAPSHOT_FILE } from './snapshot-file.js';
export { MARKER_FILE } from './store-marker.js';

const PROBE_FILE = '.write-probe';
const PROBE_BYTES = 16 * 1024;

export interface FileStoreOptions {
  /** Compact when the log grows past this many bytes (default 8 MiB). */
  compactAfterBytes?: number;
  /** Where recovery notes (a torn tail cut off, writes working again) go; default stderr. */
  warn?: (message: string) => void;
  /** While the store refuses writes after a failed write, how often it tries to recover (default 1 s). */
  recoveryProbeMs?: number;
}

/** Whether the store takes writes, for /healthz and /readyz. */
export interface StoreHealth {
  writable: boolean;
  revision: number;
  /** Why it does not take writes. */
  error?: string;
}

/** Builds a batch from the state it will apply to; throwing rejects only this batch. */
export type PrepareBatch<T> = (view: StoreView) => { mutation: StoreMutation; value: T };

interface PendingBatch {
  prepare: PrepareBatch<unknown>;
  resolve: (r: CommitResult<unknown>) => void;
  reject: (e: unknown) => void;
}

/** Why the store refuses writes: the failure, and what the last attempt to recover found. */
interface Refusal {
  failure: string;
  lastAttempt?: string;
}

export class FileStore implements StoreView {
  private readonly resources = new Map<string, StoredResource>();
  private rev = 0;
  /** Bytes of the log that hold acknowledged records: a failed write is cut back to this. */
  private logSize = 0;
  private queue: PendingBatch[] = [];
  private flushing: Promise<void> | undefined;
  private refusal: Refusal | undefined;
  private recoveryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly listeners: ((change: StoreChange) => void)[] = [];

  private constructor(
    readonly dataDir: string,
    private readonly lock: DataDirLock,
    private readonly log: FileHandle,
    private readonly marker: { createdAt: string; durableRevision: number },
    /** What this open created (a new store), so a failed start can leave the disk as it found it. */
    private readonly created: { firstDir: string | undefined } | undefined,
    private readonly opts: Required<FileStoreOptions>,
  ) {}

  /**
   * Opens (creating if needed) and locks a data dir, loads the snapshot and replays the log. Throws
   * StoreOpenError, changing nothing, when the store cannot be trusted as it is.
   */
  static async open(dataDir: string, options: FileStoreOptions = {}): Promise<FileStore> {
    const opts: Required<FileStoreOptions> = {
      compactAfterBytes: options.compactAfterBytes ?? 8 * 1024 * 1024,
      warn: options.warn ?? ((m: string) => process.stderr.write(`weftd: ${m}\n`)),
      recoveryProbeMs: options.recoveryProbeMs ?? 1000,
    };
    const firstDir = await mkdir(dataDir, { recursive: true });
    const lock = await lockDataDir(dataDir);
    try {
      const found = await inspectStore(dataDir);
      if (found.problems.length > 0) throw new StoreOpenError(dataDir, found.problems);
      const logPath = join(dataDir, LOG_FILE);
      if (found.isNew) {
        await writeFile(logPath, '', { flag: 'wx' });
        await fsyncDir(dataDir);
      }
      const log = await open(logPath, 'r+');
      const marker = found.marker.state === 'ok' ? { ...found.marker.marker } : { createdAt: new Date().toISOString(), durableRevision: 0 };
      const store = new FileStore(dataDir, lock, log, marker, found.isNew ? { firstDir } : undefined, opts);
      for (const [key, r] of found.resources) store.resources.set(key, r);
      store.rev = found.revision;
      const reading = found.log?.reading;
      store.logSize = reading?.keptLength ?? 0;
      try {
        if (reading?.tornTail) {
          const { offset, bytes, problem } = reading.tornTail;
          opts.warn(`store: cut off ${bytes} bytes at the end of ${logPath} from byte ${offset} (${problem}): the torn end of a write that was never acknowledged`);
          await log.truncate(reading.keptLength);
          await log.sync();
        }
        if (found.marker.state !== 'ok' || store.rev > marker.durableRevision) await store.noteDurable();
      } catch (e) {
        await log.close();
        throw e;
      }
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

  health(): StoreHealth {
    if (this.closed) return { writable: false, revision: this.rev, error: 'the store is closed' };
    if (this.refusal) return { writable: false, revision: this.rev, error: this.refusalMessage() };
    return { writable: true, revision: this.rev };
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
    clearInterval(this.recoveryTimer);
    while (this.flushing) await this.flushing;
    if (!this.refusal && this.rev > this.marker.durableRevision) {
      await this.noteDurable().catch((e: unknown) => this.opts.warn(`store: could not update ${MARKER_FILE} at close: ${String(e)}`));
    }
    await this.log.close().catch(() => undefined);
    await this.lock.release();
  }

  /**
   * For a start that failed after opening: closes the store and, when this open created it and
   * nothing was written, removes what it created, so the data dir is as it was found.
   */
  async closeAndDiscardIfNew(): Promise<void> {
    await this.close();
    if (!this.created || this.rev !== 0) return;
    for (const file of [MARKER_FILE, LOG_FILE]) await unlink(join(this.dataDir, file)).catch(() => undefined);
    const { firstDir } = this.created;
    if (firstDir === undefined) return;
    // mkdir made firstDir and everything under it down to the data dir: remove them deepest first.
    const levels = relative(firstDir, this.dataDir).split(/[\\/]/).filter(Boolean).length;
    let dir = this.dataDir;
    for (let i = 0; i <= levels; i++, dir = dirname(dir)) await rmdir(dir).catch(() => undefined);
  }

  /** Writes a snapshot and empties the log (also run automatically past the size threshold). */
  async compact(): Promise<void> {
    await writeSnapshot(this.dataDir, { revision: this.rev, resources: [...this.resources.values()] });
    await this.noteDurable();
    // The snapshot now covers every record in the log; a crash before this truncate only leaves
    // records that replay skips by revision.
    await this.log.truncate(0);
    this.logSize = 0;
    try {
      await this.log.sync();
    } catch (e) {
      // Whether the truncation reached the disk is unknown: appending now could leave new records
      // after old ones. Refusing writes makes the next write cut the log again first.
      this.refuseWrites(`emptying ${LOG_FILE} after compaction failed`, e);
      throw e;
    }
  }

  /** Records in store.json that the current revision is durable. */
  private async noteDurable(): Promise<void> {
    const durableRevision = this.rev;
    await writeMarker(this.dataDir, { createdAt: this.marker.createdAt, durableRevision });
    this.marker.durableRevision = Math.max(this.marker.durableRevision, durableRevision);
  }

  private async flushLoop(): Promise<void> {
    if (this.refusal && this.queue.length === 0) await this.recover(); // a probe from the timer
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      await this.flushGroup(group);
      if (!this.refusal && this.logSize > this.opts.compactAfterBytes) {
        await this.compact().catch((e: unknown) => this.opts.warn(`store compaction failed (will retry later): ${String(e)}`));
      }
    }
  }

  private async flushGroup(group: PendingBatch[]): Promise<void> {
    if (this.refusal && !(await this.recover())) {
      const refused = new StoreWriteRefusedError(this.refusalMessage());
      for (const p of group) p.reject(refused);
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
        // recovery. Refuse writes until recover() has cut it back to logSize.
        this.refuseWrites(`writing revision${rev > this.rev + 1 ? `s ${this.rev + 1}-${rev}` : ` ${rev}`} to ${LOG_FILE}`, e);
        const refused = new StoreWriteRefusedError(this.refusalMessage());
        for (const a of accepted) a.p.reject(refused);
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
          this.opts.warn(`store change listener failed: ${String(e)}`);
        }
      }
    }
    for (const a of accepted) a.p.resolve({ revision: a.revision, wrote: a.wrote, value: a.value });
  }

  private refuseWrites(doing: string, cause: unknown): void {
    this.refusal = { failure: `${doing} failed (${errorText(cause)})` };
    this.opts.warn(`store: ${this.refusalMessage()}`);
    clearInterval(this.recoveryTimer);
    this.recoveryTimer = setInterval(() => {
      if (this.refusal && !this.closed) this.startFlushing();
    }, this.opts.recoveryProbeMs);
    this.recoveryTimer.unref();
  }

  private refusalMessage(): string {
    const r = this.refusal!;
    return (
      `the store refuses writes: ${r.failure}. It takes writes again once ${LOG_FILE} is cut back to its last good ` +
      `length (${this.logSize} bytes) and the disk takes a write; it tries every ${this.opts.recoveryProbeMs} ms and at each write` +
      (r.lastAttempt ? `. Last try: ${r.lastAttempt}` : '')
    );
  }

  /**
   * Cuts the log back to the end of its last acknowledged record, fsyncs it, and checks that the
   * disk takes a write. On success the store takes writes again; otherwise says why in the refusal.
   */
  private async recover(): Promise<boolean> {
    const refusal = this.refusal!;
    try {
      await this.log.truncate(this.logSize);
      await this.log.sync();
    } catch (e) {
      refusal.lastAttempt = `cutting ${join(this.dataDir, LOG_FILE)} back to ${this.logSize} bytes failed (${errorText(e)})`;
      return false;
    }
    try {
      await probeWrite(join(this.dataDir, PROBE_FILE));
    } catch (e) {
      refusal.lastAttempt = `${LOG_FILE} is whole again, but the disk still refuses a write of ${PROBE_BYTES} bytes (${errorText(e)})`;
      return false;
    }
    this.refusal = undefined;
    clearInterval(this.recoveryTimer);
    this.recoveryTimer = undefined;
    this.opts.warn(`store: takes writes again (${LOG_FILE} cut back to ${this.logSize} bytes at revision ${this.rev})`);
    return true;
  }
}

/** Writes, fsyncs and removes a small file: whether the disk takes writes now. */
async function probeWrite(path: string): Promise<void> {
  try {
    const fh = await open(path, 'w');
    try {
      await writeFully(fh, Buffer.alloc(PROBE_BYTES), 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function writeFully(fh: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, written, bytes.length - written, position + written);
    if (bytesWritten === 0) throw new Error(`write of ${bytes.length - written} bytes at byte ${position + written} wrote nothing`);
    written += bytesWritten;
  }
}
