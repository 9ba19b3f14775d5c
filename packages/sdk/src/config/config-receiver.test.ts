import { expect } from 'chai';
import type { ConfigUpdateMsg, ResourceMsg } from '@weft/api';
import { ConfigReceiver } from './config-receiver.js';
import { resourceMsg } from './test-resources.js';

const NS = 'bookinfo';
const REVIEWS = 'reviews.bookinfo.svc.cluster.local';
const vs = (name: string, subset: string, version: string, extra: Record<string, unknown> = {}): ResourceMsg => ({
  ...resourceMsg('VirtualService', NS, name, { hosts: [name], http: [{ route: [{ destination: { host: name, subset } }], ...extra }] }, 1),
  version,
});
const full = (version: string, resources: ResourceMsg[]): ConfigUpdateMsg => ({ version, nonce: `f${version}`, resources, delta: false, baseVersion: '', removed: [] });
const delta = (baseVersion: string, version: string, resources: ResourceMsg[], removed: string[] = []): ConfigUpdateMsg => ({ version, nonce: `d${version}`, resources, delta: true, baseVersion, removed });
const subset = (outcome: ReturnType<ConfigReceiver['receive']>, host = REVIEWS) => {
  if (!outcome.ok) throw new Error(`expected an ACK, got a NACK: ${outcome.error}`);
  return outcome.config.routes.get(host)?.routes[0]!.destinations[0]!.subset;
};

describe('ConfigReceiver', () => {
  it('applies deltas to the received set and compiles the result', () => {
    const receiver = new ConfigReceiver(NS);
    expect(subset(receiver.receive(full('1', [vs('reviews', 'v1', '1'), vs('ratings', 'v1', '1')])))).to.equal('v1');
    expect(subset(receiver.receive(delta('1', '2', [vs('reviews', 'v2', '2')])))).to.equal('v2');
    const removed = receiver.receive(delta('2', '3', [], ['VirtualService/bookinfo/ratings']));
    expect(removed.ok && [...removed.config.routes.keys()]).to.deep.equal([REVIEWS]);
    expect(removed.ok && removed.config.version).to.equal('3');
  });

  it('NACKs a delta on another base and keeps what it holds; a full update puts it right', () => {
    const receiver = new ConfigReceiver(NS);
    receiver.receive(full('1', [vs('reviews', 'v1', '1')]));
    const nack = receiver.receive(delta('5', '6', [vs('reviews', 'v3', '6')]));
    expect(nack).to.deep.equal({ ok: false, error: 'delta based on "5" but this client holds "1"' });
    expect(receiver.received.version).to.equal('1');
    expect(subset(receiver.receive(delta('1', '2', [vs('reviews', 'v2', '2')])))).to.equal('v2');
    expect(subset(receiver.receive(full('6', [vs('reviews', 'v3', '6')])))).to.equal('v3');
  });

  it('holds a NACKed resource, so the next delta applies on top of it, and a delta fixing it compiles again', () => {
    const receiver = new ConfigReceiver(NS);
    receiver.receive(full('1', [vs('reviews', 'v1', '1')]));
    const bad = receiver.receive(delta('1', '2', [vs('ratings', 'v1', '2', { fault: { abort: { http2Error: 'REFUSED_STREAM' } } })]));
    expect(bad.ok).to.equal(false);
    expect(!bad.ok && bad.error).to.match(/^VirtualService bookinfo\/ratings: spec\.http\[0\]\.fault/);
    expect(receiver.received.version).to.equal('2'); // mirrors what weftd sent, NACKed or not
    // Another change while the bad resource is still held: still NACKed, still applied to the set.
    expect(receiver.receive(delta('2', '3', [vs('reviews', 'v2', '3')])).ok).to.equal(false);
    const fixed = receiver.receive(delta('3', '4', [vs('ratings', 'v9', '4')]));
    expect(subset(fixed, 'ratings.bookinfo.svc.cluster.local')).to.equal('v9');
    expect(subset(fixed)).to.equal('v2');
  });
});
