// A real full disk: a small tmpfs mounted for the test (needs root; skipped with the reason elsewhere).
// A write that fails part way leaves a partial frame at the end of wal.log; the store refuses writes
// and says why, cuts the log back once it can, and takes writes again without a restart.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, truncateSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore, LOG_FILE } from './file-store.js';
import { isStoreWriteRefusedError } from './store-write-refused-error.js';
import { putResources } from './test-resources.js';

const put = (store: FileStore, name: string, bytes = 100) => putResources(store, [name], (n) => ({ host: n, pad: 'x'.repeat(bytes) }));

/** Writes zeros into `path` until the file system is full. */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(4096);
  try {
    for (let i = 0; i < 1_000_000; i++) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
}

async function until(what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('FileStore on a full disk (tmpfs)', function () {
  let mountPoint: string;
  let mounted = false;
  before(function () {
    mountPoint = mkdtempSync(join(tmpdir(), 'weft-full-disk-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint], { stdio: 'pipe' });
      mounted = true;
    } catch (e) {
      process.stderr.write(`    skipped: cannot mount a tmpfs to fill (needs root and mount): ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}\n`);
      this.skip();
    }
  });
  after(() => {
    if (mounted) execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('refuses writes with the reason, cuts the partial frame off, and takes writes again once there is space', async () => {
    const dir = join(mountPoint, 'data');
    const store = await FileStore.open(dir, { warn: () => undefined, recoveryProbeMs: 300 });
    try {
      await put(store, 'a');
      await put(store, 'b');
      const goodLength = statSync(join(dir, LOG_FILE)).size;
      const filler = join(mountPoint, 'filler');
      fillDisk(filler);
      truncateSync(filler, statSync(filler).size - 8192); // room for part of the next write, not all of it

      const failed = await put(store, 'c', 20_000).catch((e: unknown) => e);
      expect(isStoreWriteRefusedError(failed), String(failed)).to.equal(true);
      expect(String(failed)).to.contain('writing revision 3 to wal.log failed').and.to.contain('no space left on device');
      expect(statSync(join(dir, LOG_FILE)).size, 'a partial frame at the end of the log').to.be.greaterThan(goodLength);
      let health = store.health();
      expect(health).to.include({ writable: false, revision: 2 });
      expect(health.error).to.contain('no space left on device');
      // Still full: the next write is refused too, saying what the last try found; the log is whole again.
      const again = await put(store, 'd').catch((e: unknown) => e);
      expect(String(again)).to.contain('Last try: wal.log is whole again, but the disk still refuses a write');
      expect(statSync(join(dir, LOG_FILE)).size).to.equal(goodLength);

      unlinkSync(filler);
      // No write needed: the periodic probe finds the disk writable again.
      await until('the store to take writes again', () => store.health().writable);
      health = store.health();
      expect(health).to.deep.equal({ writable: true, revision: 2 });
      expect((await put(store, 'e')).revision).to.equal(3);
    } finally {
      await store.close();
    }
    const reopened = await FileStore.open(dir, { warn: (m) => expect.fail(`no torn tail or damage expected: ${m}`) });
    expect(reopened.revision).to.equal(3);
    expect([...reopened.values()].map((r) => r.name).sort()).to.deep.equal(['a', 'b', 'e']);
    await reopened.close();
  });
});
