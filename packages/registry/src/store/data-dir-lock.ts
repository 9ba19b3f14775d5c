// One weftd per data dir: a lock file naming its owner. A lock left by a process that is gone (kill -9)
// is taken over; a lock held by a live owner is refused with a message naming it.
//
// A pid alone does not name a process for long: after a crash and a reboot (or in a container, where
// weftd is often pid 1 every time) the pid in a stale lock can belong to another, unrelated program,
// and weftd would refuse to start forever. So the lock also records, where the system tells, the
// owner's start time (field 22 of /proc/<pid>/stat, in clock ticks since boot) and the boot id. A live
// pid with another start time, or a lock from another boot, is stale. The pid stays on the first line,
// so a weftd from before this reads the lock as it always did.
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const LOCK_FILE = 'weftd.lock';

export class DataDirLockedError extends Error {
  readonly code = 'DATA_DIR_LOCKED';
  constructor(
    readonly dataDir: string,
    readonly ownerPid: number,
    sameProcess = false,
  ) {
    const path = join(dataDir, LOCK_FILE);
    super(
      sameProcess
        ? `data dir ${dataDir} is already open in this process (lock file ${path}); close that store first`
        : `data dir ${dataDir} is in use by another weftd (pid ${ownerPid}); stop it or choose another --data-dir. ` +
            `If no weftd uses this data dir, delete the lock file ${path}`,
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  release(): Promise<void>;
}

/** Who holds a lock: a pid, and where known the process start time and the boot it ran in. */
export interface LockOwner {
  pid: number;
  startTime?: string;
  bootId?: string;
}

export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const path = join(dataDir, LOCK_FILE);
  const me = await currentOwner(process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(formatLockOwner(me));
      await fh.sync();
      await fh.close();
      return { release: () => unlink(path).catch(() => undefined) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create the lock file ${path}: ${(e as Error).message}`);
    }
    const owner = parseLockOwner(await readFile(path, 'utf8').catch(() => ''));
    if (owner && (await ownerIsRunning(owner, me))) throw new DataDirLockedError(dataDir, owner.pid, owner.pid === process.pid);
    await unlink(path).catch(() => undefined); // stale: its owner is gone
  }
  throw new Error(`could not lock data dir ${dataDir}: lock file ${path} keeps reappearing`);
}

export function formatLockOwner(o: LockOwner): string {
  return `${o.pid}\n${o.startTime !== undefined ? `start ${o.startTime}\n` : ''}${o.bootId !== undefined ? `boot ${o.bootId}\n` : ''}`;
}

/** The owner a lock file names, or undefined when it names none (empty or garbled: a crash while it was written). */
export function parseLockOwner(text: string): LockOwner | undefined {
  const [first, ...rest] = text.split('\n');
  const pid = Number(first?.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  const owner: LockOwner = { pid };
  for (const line of rest) {
    const [key, value] = line.trim().split(/\s+/, 2);
    if (key === 'start' && value) owner.startTime = value;
    if (key === 'boot' && value) owner.bootId = value;
  }
  return owner;
}

/** This process (or `pid`) as a lock names it, with what the system tells about it. */
export async function currentOwner(pid: number): Promise<LockOwner> {
  const owner: LockOwner = { pid };
  const startTime = await processStartTime(pid);
  if (startTime !== undefined) owner.startTime = startTime;
  const bootId = await currentBootId();
  if (bootId !== undefined) owner.bootId = bootId;
  return owner;
}

/**
 * Whether the process a lock names still runs. Where the start time or boot id is unknown (an old
 * lock, or a system without /proc) only the pid can be checked, and a live pid counts as the owner.
 */
async function ownerIsRunning(owner: LockOwner, me: LockOwner): Promise<boolean> {
  if (owner.bootId !== undefined && me.bootId !== undefined && owner.bootId !== me.bootId) return false;
  if (owner.pid === process.pid) {
    // Our own pid: this very process only if the start time says so (a pid reused after a restart,
    // as pid 1 in a container, is not us); without a start time, assume the lock is an old one of ours.
    return owner.startTime !== undefined && owner.startTime === me.startTime;
  }
  if (!pidExists(owner.pid)) return false;
  if (owner.startTime === undefined) return true;
  const startTime = await processStartTime(owner.pid);
  return startTime === undefined || startTime === owner.startTime;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or undefined off Linux. */
async function processStartTime(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // Field 2 is the command name in parentheses and may itself hold spaces or ')': count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const value = fields[22 - 3];
  return value && /^\d+$/.test(value) ? value : undefined;
}

let bootId: Promise<string | undefined> | undefined;
function currentBootId(): Promise<string | undefined> {
  bootId ??= readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
    (s) => s.trim() || undefined,
    () => undefined,
  );
  return bootId;
}
