import { expect } from 'chai';
import type { ConfigUpdateMsg, ResourceMsg } from '@weft/api';
import { ConfigRejectedError } from './compile.js';
import { ReceivedConfig } from './received-config.js';
import { resourceMsg } from './test-resources.js';

const dr = (name: string, version: string, host = name): ResourceMsg => ({ ...resourceMsg('DestinationRule', 'bookinfo', name, { host }, 1), version });
const full = (version: string, resources: ResourceMsg[]): ConfigUpdateMsg => ({ version, nonce: `n${version}`, resources, delta: false, baseVersion: '', removed: [] });
const delta = (baseVersion: string, version: string, resources: ResourceMsg[], removed: string[] = []): ConfigUpdateMsg => ({ version, nonce: `d${version}`, resources, delta: true, baseVersion, removed });
const keys = (changes: { key: string; resource: ResourceMsg | undefined }[]) => changes.map((c) => `${c.resource ? 'put' : 'del'} ${c.key}`);

describe('ReceivedConfig', () => {
  it('takes a full update whole and reports every resource as changed', () => {
    const set = new ReceivedConfig();
    expect(set.version).to.equal('');
    expect(keys(set.apply(full('3', [dr('a', '1'), dr('b', '3')])))).to.deep.equal(['put DestinationRule/bookinfo/a', 'put DestinationRule/bookinfo/b']);
    expect(set.version).to.equal('3');
    expect(set.size).to.equal(2);
  });

  it('applies a delta on the version held: puts replace by key, removed keys leave', () => {
    const set = new ReceivedConfig();
    set.apply(full('3', [dr('a', '1'), dr('b', '3')]));
    const a4 = dr('a', '4', 'a.other');
    const changes = set.apply(delta('3', '4', [a4, dr('c', '4')], ['DestinationRule/bookinfo/b', 'DestinationRule/bookinfo/never-held']));
    expect(keys(changes)).to.deep.equal(['del DestinationRule/bookinfo/b', 'put DestinationRule/bookinfo/a', 'put DestinationRule/bookinfo/c']);
    expect(set.version).to.equal('4');
    expect(set.get('DestinationRule/bookinfo/a')).to.equal(a4);
    expect(set.get('DestinationRule/bookinfo/b')).to.equal(undefined);
    expect(set.size).to.equal(2);
  });

  it('NACKs a delta on another base without applying it', () => {
    const set = new ReceivedConfig();
    set.apply(full('3', [dr('a', '1')]));
    expect(() => set.apply(delta('2', '4', [dr('b', '4')]))).to.throw(ConfigRejectedError, 'delta based on "2" but this client holds "3"');
    expect(set.version).to.equal('3');
    expect(set.get('DestinationRule/bookinfo/b')).to.equal(undefined);
    expect(() => new ReceivedConfig().apply(delta('3', '4', []))).to.throw(ConfigRejectedError, 'but this client holds ""');
  });

  it('a full update reports only what differs from the set held, including what left', () => {
    const set = new ReceivedConfig();
    set.apply(full('3', [dr('a', '1'), dr('b', '3')]));
    // Same resources decoded again from another message: equal content is not a change.
    const changes = set.apply(full('5', [dr('a', '1'), dr('c', '5')]));
    expect(keys(changes)).to.deep.equal(['put DestinationRule/bookinfo/c', 'del DestinationRule/bookinfo/b']);
    // A different spec under the same version is a change all the same (a store rewritten elsewhere).
    const rewritten = { ...dr('a', '1'), specJson: '{"host":"x"}' };
    expect(keys(set.apply(full('6', [rewritten, dr('c', '5')])))).to.deep.equal(['put DestinationRule/bookinfo/a']);
  });
});
