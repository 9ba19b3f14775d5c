// FileStore.open on data dirs crafted the way damage, lost files and restored backups leave them:
// each is refused with a message naming the file and what to do, and nothing on disk changes.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore, LOG_FILE, MARKER_FILE, SNAPSHOT_FILE } from './file-store.js';
import { FRAME_HEADER_BYTES } from './record-framing.js';
import { isStoreOpenError, type StoreOpenError } from './store-open-error.js';
import { putResources } from './test-resources.js';

const quiet = { warn: () => undefined };
const put = (store: FileStore, name: string) => putResources(store, [name]);

/** Every file of the dir with its bytes, to show that a refused open changed nothing. */
function contents(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));
}

describe('FileStore.open refuses a store it cannot trust, changing nothing', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'weft-store-open-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A store with `n` writes (revisions 1..n), closed; returns where each record starts in wal.log. */
  async function storeWith(n: number, compactAfter?: number): Promise<number[]> {
    const store = await FileStore.open(dir, quiet);
    for (let i = 1; i <= n; i++) {
      await put(store, `r${i}`);
      if (i === compactAfter) await store.compact();
    }
    await store.close();
    const log = readFileSync(join(dir, LOG_FILE));
    const offsets: number[] = [];
    for (let at = 0; at < log.length; at += FRAME_HEADER_BYTES + log.readUInt32BE(at)) offsets.push(at);
    return offsets;
  }

  async function refusal(): Promise<StoreOpenError> {
    const before = contents(dir);
    let error: unknown;
    await FileStore.open(dir, quiet).then(
      (s) => s.close(),
      (e: unknown) => (error = e),
    );
    expect(isStoreOpenError(error), String(error)).to.equal(true);
    expect(contents(dir), 'the data dir is exactly as it was').to.deep.equal(before);
    const e = error as StoreOpenError;
    expect(e.message).to.contain(`weftd --repair-store --data-dir ${dir}`).and.to.contain('restore the data dir from a backup');
    return e;
  }

  it('starts a new data dir empty and marks it as a store, without a word', async () => {
    const warnings: string[] = [];
    const fresh = join(dir, 'new', 'data');
    const store = await FileStore.open(fresh, { warn: (m) => warnings.push(m) });
    expect(store.revision).to.equal(0);
    await store.close();
    expect(readdirSync(fresh).sort()).to.deep.equal([MARKER_FILE, LOG_FILE].sort());
    expect(JSON.parse(readFileSync(join(fresh, MARKER_FILE), 'utf8'))).to.include({ format: 1, durableRevision: 0 });
    expect(warnings).to.deep.equal([]);
  });

  it('after a failed start, removes what it created for a new store, and nothing of an existing one', async () => {
    const fresh = join(dir, 'new', 'data');
    await (await FileStore.open(fresh, quiet)).closeAndDiscardIfNew();
    expect(readdirSync(dir)).to.deep.equal([]);
    await storeWith(0);
    const before = contents(dir);
    await (await FileStore.open(dir, quiet)).closeAndDiscardIfNew();
    expect(contents(dir)).to.deep.equal(before);
  });

  it('records the durable revision in store.json at close and compaction', async () => {
    await storeWith(3);
    expect(JSON.parse(readFileSync(join(dir, MARKER_FILE), 'utf8')).durableRevision).to.equal(3);
  });

  it('opens a data dir of a weftd from before store.json and marks it', async () => {
    await storeWith(2);
    unlinkSync(join(dir, MARKER_FILE));
    const store = await FileStore.open(dir, quiet);
    expect(store.revision).to.equal(2);
    expect(JSON.parse(readFileSync(join(dir, MARKER_FILE), 'utf8')).durableRevision).to.equal(2);
    await store.close();
  });

  it('refuses a log damaged in the middle, naming the file, the byte offset and the records after it', async () => {
    const offsets = await storeWith(5);
    const logPath = join(dir, LOG_FILE);
    const log = readFileSync(logPath);
    log[offsets[2]! + FRAME_HEADER_BYTES + 4]! ^= 0x01;
    writeFileSync(logPath, log);
    const e = await refusal();
    expect(e.code).to.equal('WAL_DAMAGED');
    expect(e.message).to.contain(`${logPath} is damaged at byte ${offsets[2]}`).and.to.contain('checksum does not match');
    expect(e.message).to.contain('2 intact records (revisions 4-5) follow it');
    expect(e.message).to.contain('keeps the 2 records before byte').and.to.contain('loses the 2 intact records after the damage (revisions 4-5)');
    expect(e.message).to.not.contain('never acknowledged');
  });

  it('refuses garbage between records', async () => {
    const offsets = await storeWith(3);
    const logPath = join(dir, LOG_FILE);
    const log = readFileSync(logPath);
    writeFileSync(logPath, Buffer.concat([log.subarray(0, offsets[1]), Buffer.from('\x00\x00garbage'), log.subarray(offsets[1])]));
    expect((await refusal()).message).to.contain(`damaged at byte ${offsets[1]}`);
  });

  it('refuses a data dir whose store.json says it held a store but whose snapshot.json and wal.log are gone', async () => {
    await storeWith(4);
    unlinkSync(join(dir, LOG_FILE));
    const e = await refusal();
    expect(e.code).to.equal('STORE_FILES_MISSING');
    expect(e.message).to.contain(`${dir} held a Weft store (${join(dir, MARKER_FILE)}, created `).and.to.contain('durable up to revision 4)');
    expect(e.message).to.contain('starts an empty store (every resource is lost');
    // Even without ever a write or a compaction: the marker alone says a store lived here.
    rmSync(dir, { recursive: true, force: true });
    await storeWith(0);
    unlinkSync(join(dir, LOG_FILE));
    const both = await refusal();
    expect(both.message).to.contain(`but its ${SNAPSHOT_FILE} and ${LOG_FILE} are both missing; weftd will not start an empty store in their place`);
    expect(both.message).to.contain(MARKER_FILE);
  });

  it('refuses a snapshot without its wal.log', async () => {
    await storeWith(3, 2);
    unlinkSync(join(dir, LOG_FILE));
    const e = await refusal();
    expect(e.message).to.contain(`${join(dir, LOG_FILE)} is missing, though ${SNAPSHOT_FILE} (revision 2) is there`).and.to.contain('says revision 3 was durable');
  });

  it('refuses a log that begins after a missing snapshot', async () => {
    await storeWith(5, 3);
    unlinkSync(join(dir, SNAPSHOT_FILE));
    const e = await refusal();
    expect(e.code).to.equal('REVISION_GAP');
    expect(e.message).to.contain(`${join(dir, LOG_FILE)} begins at revision 4, but there is no ${SNAPSHOT_FILE} to hold revisions 1-3`);
  });

  it('refuses a snapshot behind the revision store.json knows was durable (an older snapshot restored)', async () => {
    await storeWith(2, 2);
    const oldSnapshot = readFileSync(join(dir, SNAPSHOT_FILE));
    await storeWith(0); // reopen the same dir: nothing new yet
    const store = await FileStore.open(dir, quiet);
    await put(store, 'r3');
    await put(store, 'r4');
    await store.compact();
    await store.close();
    writeFileSync(join(dir, SNAPSHOT_FILE), oldSnapshot);
    const e = await refusal();
    expect(e.code).to.equal('STORE_BEHIND');
    expect(e.message).to.contain(`${join(dir, MARKER_FILE)} says revision 4 was made durable, but ${SNAPSHOT_FILE} and ${LOG_FILE} hold only up to revision 2`);
  });

  it('catches the loss of the last acknowledged record, which alone looks like a torn tail, through store.json', async () => {
    await storeWith(3);
    const logPath = join(dir, LOG_FILE);
    const log = readFileSync(logPath);
    log[log.length - 2]! ^= 0x01;
    writeFileSync(logPath, log);
    const e = await refusal();
    expect(e.code).to.equal('STORE_BEHIND');
    expect(e.message).to.contain('hold only up to revision 2');
  });

  it('refuses a snapshot cut short or garbled, naming it and what is wrong', async () => {
    await storeWith(3, 3);
    const path = join(dir, SNAPSHOT_FILE);
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.slice(0, text.length / 2));
    const e = await refusal();
    expect(e.code).to.equal('SNAPSHOT_DAMAGED');
    expect(e.message).to.contain(`${path} is damaged: it is not valid JSON`).and.to.contain('it is cut short or garbled');
    writeFileSync(path, '');
    expect((await refusal()).message).to.contain(`${path} is damaged: the file is empty`);
    writeFileSync(path, JSON.stringify({ format: 1, revision: 3, resources: [{ kind: 'DestinationRule' }] }));
    expect((await refusal()).message).to.contain('resources[0] has no namespace');
  });

  it('refuses a snapshot of a newer weftd without calling it damaged', async () => {
    await storeWith(1, 1);
    writeFileSync(join(dir, SNAPSHOT_FILE), JSON.stringify({ format: 2, revision: 1, resources: [] }));
    const error = await FileStore.open(dir, quiet).catch((e: unknown) => e);
    expect(String(error)).to.contain('has snapshot format 2, and this weftd reads format 1: a newer weftd wrote it');
    expect(existsSync(join(dir, 'weftd.lock'))).to.equal(false);
  });

  it('refuses a garbled store.json', async () => {
    await storeWith(1);
    writeFileSync(join(dir, MARKER_FILE), '{"format":1,');
    const e = await refusal();
    expect(e.code).to.equal('MARKER_DAMAGED');
    expect(e.message).to.contain(`${join(dir, MARKER_FILE)} (the store marker) is damaged: it is not valid JSON`);
  });
});
