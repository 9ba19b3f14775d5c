import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentOwner, DataDirLockedError, formatLockOwner, lockDataDir, LOCK_FILE, parseLockOwner } from './data-dir-lock.js';

const hasProc = existsSync('/proc/self/stat') && existsSync('/proc/sys/kernel/random/boot_id');

describe('data dir lock', () => {
  let dir: string;
  let sleeper: ChildProcess | undefined;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'weft-lock-'))));
  afterEach(() => {
    sleeper?.kill('SIGKILL');
    sleeper = undefined;
    rmSync(dir, { recursive: true, force: true });
  });
  const lockPath = () => join(dir, LOCK_FILE);
  const refusal = async () => {
    let error: unknown;
    const lock = await lockDataDir(dir).catch((e: unknown) => (error = e));
    if (!error) await (lock as { release(): Promise<void> }).release();
    return error;
  };
  const startSleeper = async () => {
    sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((resolve) => sleeper!.once('spawn', resolve));
    return sleeper.pid!;
  };

  it('records the pid first (as older weftds read it), then the start time and boot id', async function () {
    if (!hasProc) this.skip();
    const lock = await lockDataDir(dir);
    const owner = parseLockOwner(readFileSync(lockPath(), 'utf8'))!;
    expect(Number.parseInt(readFileSync(lockPath(), 'utf8'), 10)).to.equal(process.pid);
    expect(owner).to.deep.equal(await currentOwner(process.pid));
    expect(owner.startTime).to.match(/^\d+$/);
    expect(owner.bootId).to.equal(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    await lock.release();
  });

  it('refuses a lock held by a live weftd: the same pid and start time', async function () {
    if (!hasProc) this.skip();
    const pid = await startSleeper();
    writeFileSync(lockPath(), formatLockOwner(await currentOwner(pid)));
    const error = await refusal();
    expect(error).to.be.instanceOf(DataDirLockedError);
    expect(String(error)).to.contain(`in use by another weftd (pid ${pid})`).and.to.contain(`delete the lock file ${lockPath()}`);
  });

  it('takes over a lock whose pid now belongs to an unrelated process (another start time)', async function () {
    if (!hasProc) this.skip();
    const pid = await startSleeper();
    const { bootId } = await currentOwner(pid);
    writeFileSync(lockPath(), formatLockOwner({ pid, startTime: '1', bootId }));
    expect(await refusal()).to.equal(undefined);
    writeFileSync(lockPath(), formatLockOwner({ pid: process.ppid, startTime: '1', bootId }));
    expect(await refusal()).to.equal(undefined);
  });

  it('takes over a lock from before a reboot, whatever runs under its pid now', async function () {
    if (!hasProc) this.skip();
    const pid = await startSleeper();
    const { startTime } = await currentOwner(pid);
    writeFileSync(lockPath(), formatLockOwner({ pid, startTime, bootId: 'another-boot' }));
    expect(await refusal()).to.equal(undefined);
  });

  it('takes over our own pid from another process life (pid 1 in a new container), but not a second open in this process', async function () {
    if (!hasProc) this.skip();
    writeFileSync(lockPath(), formatLockOwner({ pid: process.pid, startTime: '1' }));
    const lock = await lockDataDir(dir);
    const error = await refusal();
    expect(String(error)).to.contain('already open in this process');
    await lock.release();
  });

  it('refuses an old lock (pid only) of a live process, and takes over a dead, empty or garbled one', async () => {
    writeFileSync(lockPath(), `${process.ppid}\n`);
    expect(await refusal()).to.be.instanceOf(DataDirLockedError);
    for (const text of ['999999999\n', '', 'garbage', '-3\n']) {
      writeFileSync(lockPath(), text);
      expect(await refusal(), JSON.stringify(text)).to.equal(undefined);
    }
  });
});
