import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLockedError, formatLockOwner, currentOwner, LOCK_FILE } from './data-dir-lock.js';
import { FileStore, LOG_FILE, MARKER_FILE, SNAPSHOT_FILE } from './file-store.js';
import { FRAME_HEADER_BYTES } from './record-framing.js';
import { repairStore } from './store-repair.js';
import { putResources } from './test-resources.js';

const quiet = { warn: () => undefined };
const put = (store: FileStore, name: string) => putResources(store, [name]);
const names = (store: FileStore) => [...store.values()].map((r) => r.name).sort();

describe('weftd --repair-store (repairStore)', () => {
  let dir: string;
  const now = new Date('2025-01-02T03:04:05.678Z');
  const stamp = '2025-01-02T03-04-05.678Z';
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'weft-repair-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function storeWith(n: number, compactAfter?: number): Promise<void> {
    const store = await FileStore.open(dir, quiet);
    for (let i = 1; i <= n; i++) {
      await put(store, `r${i}`);
      if (i === compactAfter) await store.compact();
    }
    await store.close();
  }

  it('keeps the records before damage, moves the log aside untouched, reports the intact records lost, and continues above them', async () => {
    await storeWith(5);
    const logPath = join(dir, LOG_FILE);
    const log = readFileSync(logPath);
    const third = 2 * FRAME_HEADER_BYTES + log.readUInt32BE(0) + log.readUInt32BE(FRAME_HEADER_BYTES + log.readUInt32BE(0));
    log[third + FRAME_HEADER_BYTES + 3]! ^= 0x20;
    writeFileSync(logPath, log);

    const report = await repairStore(dir, now);
    expect(report.repaired).to.equal(true);
    expect(report.lostRevisions).to.deep.equal([4, 5]);
    expect(report.movedAside).to.deep.equal([`${LOG_FILE}.damaged-${stamp}`]);
    expect(readFileSync(join(dir, report.movedAside[0]!)).equals(log), 'the damaged log is kept byte for byte').to.equal(true);
    const text = report.lines.join('\n');
    expect(text).to.contain(`found: ${logPath} is damaged at byte ${third}`);
    expect(text).to.contain('lost: 2 intact records that could not be kept (revisions 4-5)');
    expect(text).to.contain('now holds 2 resources at revision 6');
    expect(report.revision).to.equal(6);

    const store = await FileStore.open(dir, quiet);
    expect(store.revision).to.equal(6);
    expect(names(store)).to.deep.equal(['r1', 'r2']);
    expect((await put(store, 'r7')).revision).to.equal(7);
    await store.close();
    const again = await FileStore.open(dir, quiet);
    expect(names(again)).to.deep.equal(['r1', 'r2', 'r7']);
    await again.close();
  });

  it('says there is nothing to repair and changes nothing when the store is intact', async () => {
    await storeWith(2);
    const before = readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]);
    const report = await repairStore(dir, now);
    expect(report.repaired).to.equal(false);
    expect(report.lines.join()).to.contain(`nothing to repair: the store in ${dir} is intact (revision 2, 2 resources)`);
    expect(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')])).to.deep.equal(before);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect((await repairStore(empty, now)).lines).to.deep.equal([`nothing to repair: ${empty} holds no store yet`]);
    expect(readdirSync(empty)).to.deep.equal([]);
  });

  it('starts an empty store above the durable revision when snapshot.json and wal.log are gone', async () => {
    await storeWith(4);
    unlinkSync(join(dir, LOG_FILE));
    const report = await repairStore(dir, now);
    expect(report.lines.join('\n')).to.contain('starts an empty store').and.to.contain("store.json had recorded revision 4 as durable: the writes after revision 0 are gone");
    const store = await FileStore.open(dir, quiet);
    expect(store.revision).to.equal(5);
    expect(store.size).to.equal(0);
    await store.close();
  });

  it('continues from the snapshot when wal.log is gone', async () => {
    await storeWith(4, 2);
    unlinkSync(join(dir, LOG_FILE));
    expect((await repairStore(dir, now)).revision).to.equal(5);
    const store = await FileStore.open(dir, quiet);
    expect(names(store)).to.deep.equal(['r1', 'r2']);
    await store.close();
  });

  it('moves a damaged snapshot aside and keeps what the log holds from revision 1', async () => {
    await storeWith(2);
    writeFileSync(join(dir, SNAPSHOT_FILE), '{"format":1,"revis');
    const report = await repairStore(dir, now);
    expect(report.movedAside).to.deep.equal([`${SNAPSHOT_FILE}.damaged-${stamp}`, `${LOG_FILE}.damaged-${stamp}`]);
    const store = await FileStore.open(dir, quiet);
    expect(names(store)).to.deep.equal(['r1', 'r2']);
    expect(store.revision).to.equal(3);
    await store.close();
  });

  it('rewrites a garbled store.json without changing the revision', async () => {
    await storeWith(2);
    writeFileSync(join(dir, MARKER_FILE), 'garbage');
    const report = await repairStore(dir, now);
    expect(report.revision).to.equal(2);
    expect(report.movedAside).to.deep.equal([`${MARKER_FILE}.damaged-${stamp}`]);
    const store = await FileStore.open(dir, quiet);
    expect(store.revision).to.equal(2);
    await store.close();
  });

  it('will not repair a store that a running weftd holds, nor a data dir that does not exist', async () => {
    await storeWith(1);
    writeFileSync(join(dir, LOCK_FILE), formatLockOwner(await currentOwner(process.ppid)));
    expect(await repairStore(dir, now).catch((e: unknown) => e)).to.be.instanceOf(DataDirLockedError);
    unlinkSync(join(dir, LOCK_FILE));
    expect(String(await repairStore(join(dir, 'nope'), now).catch((e: unknown) => e))).to.contain(`there is no data dir ${join(dir, 'nope')} to repair`);
  });
});
