import { expect } from 'chai';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore, LOG_FILE, SNAPSHOT_FILE } from './file-store.js';
import { encodeRecord } from './record-framing.js';
import { putResources, testResource as resource } from './test-resources.js';

const put = (store: FileStore, ...names: string[]) => putResources(store, names);

describe('FileStore', () => {
  let dir: string;
  const quiet = { warn: () => undefined };
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'weft-store-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps acknowledged batches across reopen with the same revisions', async () => {
    const store = await FileStore.open(dir, quiet);
    expect((await put(store, 'a', 'b')).revision).to.equal(1);
    expect((await put(store, 'c')).revision).to.equal(2);
    await store.commit(() => ({ mutation: { puts: [], deletes: ['DestinationRule/default/a'] }, value: undefined }));
    await store.close();
    const again = await FileStore.open(dir, quiet);
    expect(again.revision).to.equal(3);
    expect([...again.values()].map((r) => [r.name, r.resourceVersion])).to.deep.equal([['b', 1], ['c', 2]]);
    expect((await put(again, 'd')).revision).to.equal(4);
    await again.close();
  });

  it('does not consume a revision for an empty batch and rejects only a failing batch', async () => {
    const store = await FileStore.open(dir, quiet);
    const empty = await store.commit(() => ({ mutation: { puts: [], deletes: [] }, value: 'nothing' }));
    expect(empty).to.deep.equal({ revision: 0, wrote: false, value: 'nothing' });
    const results = await Promise.allSettled([
      put(store, 'a'),
      store.commit(() => {
        throw new Error('invalid');
      }),
      put(store, 'b'),
    ]);
    expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
    expect(store.revision).to.equal(2);
    await store.close();
  });

  it('group-commits concurrent batches in order, each seeing the ones before it', async () => {
    const store = await FileStore.open(dir, quiet);
    const seen: number[] = [];
    const batches = Array.from({ length: 20 }, (_, i) =>
      store.commit((view) => {
        seen.push([...view.values()].length);
        return { mutation: { puts: [resource(`r${i}`, view)], deletes: [] }, value: i };
      }),
    );
    const results = await Promise.all(batches);
    expect(results.map((r) => r.revision)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(seen).to.deep.equal(Array.from({ length: 20 }, (_, i) => i));
    await store.close();
  });

  it('ignores and cuts off a torn tail, keeping every complete record', async () => {
    const store = await FileStore.open(dir, quiet);
    await put(store, 'a');
    await put(store, 'b');
    await store.close();
    const logPath = join(dir, LOG_FILE);
    const intact = statSync(logPath).size;
    const torn = encodeRecord(Buffer.from(JSON.stringify({ rev: 3, put: [], del: ['DestinationRule/default/a'] })));
    appendFileSync(logPath, torn.subarray(0, torn.length - 3));
    const warnings: string[] = [];
    const again = await FileStore.open(dir, { warn: (m) => warnings.push(m) });
    expect(again.revision).to.equal(2);
    expect(again.get('DestinationRule/default/a')).to.not.equal(undefined);
    expect(warnings.join()).to.match(/cut off \d+ bytes at the end of .*wal\.log from byte \d+ .*never acknowledged/);
    expect(statSync(logPath).size).to.equal(intact);
    expect((await put(again, 'c')).revision).to.equal(3);
    await again.close();
    const third = await FileStore.open(dir, quiet);
    expect(third.revision).to.equal(3);
    await third.close();
  });

  it('compacts into a snapshot and replays only newer log records', async () => {
    const store = await FileStore.open(dir, { ...quiet, compactAfterBytes: 600 });
    for (let i = 0; i < 10; i++) await put(store, `r${i}`);
    await store.close(); // waits for a compaction in flight
    expect(statSync(join(dir, SNAPSHOT_FILE)).size).to.be.greaterThan(0);
    expect(statSync(join(dir, LOG_FILE)).size).to.be.lessThan(600);
    const again = await FileStore.open(dir, quiet);
    expect(again.revision).to.equal(10);
    expect(again.size).to.equal(10);
    await again.close();
  });

  it('survives a crash between the snapshot rename and the log truncation', async () => {
    const store = await FileStore.open(dir, quiet);
    await put(store, 'a');
    await put(store, 'b');
    await store.close();
    const log = readFileSync(join(dir, LOG_FILE));
    const reopened = await FileStore.open(dir, quiet);
    await reopened.compact();
    await reopened.close();
    writeFileSync(join(dir, LOG_FILE), log); // as if the truncate never happened
    const again = await FileStore.open(dir, quiet);
    expect(again.revision).to.equal(2);
    expect(again.size).to.equal(2);
    await again.close();
  });
});
