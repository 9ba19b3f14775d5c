// ConfigService over a real file store: a write whose references do not resolve is stored (or, in a
// dry run, checked) and answered with warnings, as Istio stores its files in any order; a field error
// still refuses the whole batch.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../store/file-store.js';
import { isConfigWriteError } from './config-errors.js';
import { ConfigService } from './config-service.js';

const VS = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'reviews', namespace: 'bookinfo' },
  spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 80 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 20 }] }] },
};
const DR = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'reviews', namespace: 'bookinfo' },
  spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] },
};
const DR_TARGET = { kind: 'DestinationRule', namespace: 'bookinfo', name: 'reviews' };

describe('ConfigService: unresolved references are warnings', () => {
  let dir: string;
  let store: FileStore;
  let config: ConfigService;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-config-warnings-'));
    store = await FileStore.open(dir, { warn: () => undefined });
    config = new ConfigService(store, () => undefined);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a VirtualService before its DestinationRule, with one warning per missing subset', async () => {
    const dry = await config.apply([{ source: 'vs.yaml#1', object: VS }], { dryRun: true });
    expect(dry.results.map((r) => r.action)).to.deep.equal(['created']);
    expect(dry.warnings.map((w) => [w.source, w.path, w.code])).to.deep.equal([
      ['vs.yaml#1', 'spec.http[0].route[0].destination.subset', 'IST0101'],
      ['vs.yaml#1', 'spec.http[0].route[1].destination.subset', 'IST0101'],
    ]);
    expect(config.get('VirtualService', 'bookinfo', 'reviews')).to.equal(undefined);

    const applied = await config.apply([{ source: 'vs.yaml#1', object: VS }]);
    expect(applied.warnings).to.deep.equal(dry.warnings);
    expect(config.get('VirtualService', 'bookinfo', 'reviews')?.resourceVersion).to.equal(applied.revision);

    const again = await config.apply([{ object: VS }]);
    expect(again.results[0]!.action).to.equal('unchanged');
    expect(again.warnings).to.have.length(2);

    const rule = await config.apply([{ source: 'dr.yaml#1', object: DR }]);
    expect(rule.warnings).to.deep.equal([]);
  });

  it('deletes a DestinationRule still routed to, warning about each route left without it (dry run too)', async () => {
    expect((await config.apply([{ object: DR }, { object: VS }])).warnings).to.deep.equal([]);
    const dry = await config.delete([DR_TARGET], { dryRun: true });
    expect(dry.warnings.map((w) => [w.kind, w.name, w.path, w.source])).to.deep.equal([
      ['VirtualService', 'reviews', 'spec.http[0].route[0].destination.subset', undefined],
      ['VirtualService', 'reviews', 'spec.http[0].route[1].destination.subset', undefined],
    ]);
    expect(config.get('DestinationRule', 'bookinfo', 'reviews')).to.not.equal(undefined);
    const done = await config.delete([DR_TARGET]);
    expect(done.deleted).to.deep.equal([DR_TARGET]);
    expect(done.warnings).to.deep.equal(dry.warnings);
    expect(config.get('DestinationRule', 'bookinfo', 'reviews')).to.equal(undefined);
    // Deleting the VirtualService too leaves nothing to warn about.
    expect((await config.delete([{ kind: 'VirtualService', namespace: 'bookinfo', name: 'reviews' }])).warnings).to.deep.equal([]);
  });

  it('still refuses the whole batch for a field error, storing nothing', async () => {
    // A typo of `weight`, in a batch that also routes to a subset no rule defines: only the typo is an error.
    const bad = { ...VS, spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v9' }, weigth: 20 }] }] } };
    const e = await config.apply([{ object: DR }, { source: 'bad.yaml#1', object: bad }]).catch((x: unknown) => x);
    expect(isConfigWriteError(e) && e.issues.map((i) => `${i.source} ${i.path}`)).to.deep.equal(['bad.yaml#1 spec.http[0].route[0].weigth']);
    expect(config.list('DestinationRule')).to.deep.equal([]);
  });
});
