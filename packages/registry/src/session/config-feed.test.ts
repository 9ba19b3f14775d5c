import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigUpdateMsg } from '@weft/api';
import { ConfigService } from '../config/config-service.js';
import { FileStore } from '../store/file-store.js';
import type { StoreChange } from '../store/stored-resource.js';
import { ConfigFeed, type PreparedConfig } from './config-feed.js';
import { deserializeResponse } from './response-bytes.js';

const rule = (name: string, lb = 'ROUND_ROBIN') => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name, namespace: 'bookinfo' },
  spec: { host: name, trafficPolicy: { loadBalancer: { simple: lb } } },
});

function decoded(update: PreparedConfig): ConfigUpdateMsg {
  const msg = deserializeResponse(update.bytes);
  if (msg.kind !== 'config') throw new Error(`expected a config update, got ${msg.kind}`);
  return msg.config;
}

const names = (c: ConfigUpdateMsg) => c.resources.map((r) => r.name).sort();

describe('ConfigFeed', () => {
  let dir: string;
  let store: FileStore;
  let config: ConfigService;
  let feed: ConfigFeed;
  let changes: StoreChange[];
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-feed-'));
    store = await FileStore.open(dir, { warn: () => undefined });
    config = new ConfigService(store, () => undefined);
    let nonce = 0;
    feed = new ConfigFeed(store, () => `n${++nonce}`);
    changes = [];
    store.onChange((c) => {
      changes.push(c);
      feed.advance(c);
    });
    await config.apply([{ object: rule('reviews') }, { object: rule('ratings') }, { object: rule('details') }]);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serializes the full snapshot of a revision once, with every resource', () => {
    const full = feed.full();
    expect(feed.full()).to.equal(full);
    const msg = decoded(full);
    expect(msg).to.include({ version: '1', delta: false, baseVersion: '' });
    expect(msg.removed).to.deep.equal([]);
    expect(names(msg)).to.deep.equal(['details', 'ratings', 'reviews']);
    expect(full).to.include({ version: '1', delta: false, nonce: msg.nonce });
  });

  it('gives a session that was sent the previous revision the delta of what changed, shared by all such sessions', async () => {
    await config.apply([{ object: rule('reviews', 'RANDOM') }]);
    const delta = feed.updateFor('1', true);
    expect(feed.updateFor('1', true)).to.equal(delta);
    expect(delta).to.include({ version: '2', delta: true, baseVersion: '1' });
    const msg = decoded(delta);
    expect(msg).to.include({ version: '2', delta: true, baseVersion: '1', nonce: delta.nonce });
    expect(names(msg)).to.deep.equal(['reviews']);
    expect(JSON.parse(msg.resources[0]!.specJson)).to.deep.equal({ host: 'reviews', trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } });
    expect(msg.resources[0]!.version).to.equal('2');
    expect(msg.removed).to.deep.equal([]);
  });

  it('gives the full snapshot to a session on another base or one that does not accept deltas', async () => {
    await config.apply([{ object: rule('reviews', 'RANDOM') }]);
    const full = feed.updateFor('0', true);
    expect(full).to.include({ version: '2', delta: false });
    expect(names(decoded(full))).to.deep.equal(['details', 'ratings', 'reviews']);
    expect(feed.updateFor('1', false)).to.equal(full);
    expect(feed.updateFor('', true)).to.equal(full);
    expect(feed.full()).to.equal(full);
    expect(full.nonce).to.not.equal(feed.updateFor('1', true).nonce);
  });

  it('lists deleted keys in `removed`', async () => {
    await config.delete([{ kind: 'DestinationRule', namespace: 'bookinfo', name: 'ratings' }]);
    const msg = decoded(feed.updateFor('1', true));
    expect(msg).to.include({ version: '2', delta: true, baseVersion: '1' });
    expect(msg.resources).to.deep.equal([]);
    expect(msg.removed).to.deep.equal(['DestinationRule/bookinfo/ratings']);
    expect(names(decoded(feed.full()))).to.deep.equal(['details', 'reviews']);
  });

  it('bases the delta of a group commit on the revision before the group; deltas in order rebuild the snapshot', async () => {
    const deltas: ConfigUpdateMsg[] = [];
    store.onChange((c) => deltas.push(decoded(feed.updateFor(String(c.previousRevision), true))));
    const held = new Map(decoded(feed.full()).resources.map((r) => [`${r.kind}/${r.namespace}/${r.name}`, r]));
    // The first batch starts a flush at once; the other two queue behind its fsync and commit as one group.
    await Promise.all([
      config.apply([{ object: rule('reviews', 'RANDOM') }]),
      config.delete([{ kind: 'DestinationRule', namespace: 'bookinfo', name: 'details' }]),
      config.apply([{ object: rule('productpage') }]),
    ]);
    const last = changes[changes.length - 1]!;
    expect(last).to.include({ previousRevision: 2, revision: 4 });
    expect(deltas.map((d) => [d.baseVersion, d.version])).to.deep.equal([['1', '2'], ['2', '4']]);
    expect(deltas[1]!.removed).to.deep.equal(['DestinationRule/bookinfo/details']);
    for (const d of deltas) {
      for (const key of d.removed) held.delete(key);
      for (const r of d.resources) held.set(`${r.kind}/${r.namespace}/${r.name}`, r);
    }
    const full = decoded(feed.full());
    expect(full.version).to.equal('4');
    const byKey = (a: [string, unknown], b: [string, unknown]) => a[0].localeCompare(b[0]);
    expect([...held].sort(byKey)).to.deep.equal(full.resources.map((r) => [`${r.kind}/${r.namespace}/${r.name}`, r] as [string, unknown]).sort(byKey));
  });
});
