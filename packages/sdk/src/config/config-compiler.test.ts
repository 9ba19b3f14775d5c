import { expect } from 'chai';
import type { ResourceMsg } from '@weft/api';
import { ConfigRejectedError } from './compile.js';
import { ConfigCompiler } from './config-compiler.js';
import { resourceMsgKey, type ResourceChange } from './received-config.js';
import { resourceMsg } from './test-resources.js';

const NS = 'bookinfo';
const REVIEWS = 'reviews.bookinfo.svc.cluster.local';
const RATINGS = 'ratings.bookinfo.svc.cluster.local';

const put = (...resources: ResourceMsg[]): ResourceChange[] => resources.map((resource) => ({ key: resourceMsgKey(resource), resource }));
const del = (r: ResourceMsg): ResourceChange => ({ key: resourceMsgKey(r), resource: undefined });
const vs = (name: string, host: string, subset: string, createdMs: number, namespace = NS) =>
  resourceMsg('VirtualService', namespace, name, { hosts: [host], http: [{ route: [{ destination: { host, subset } }] }] }, createdMs);
const dr = (name: string, host: string, namespace: string, createdMs: number, simple = 'ROUND_ROBIN') =>
  resourceMsg('DestinationRule', namespace, name, { host, trafficPolicy: { loadBalancer: { simple } } }, createdMs);
const badVs = (name: string) => resourceMsg('VirtualService', NS, name, { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' } }], fault: {} }] }, 50);
const subsetOf = (c: { routes: ReadonlyMap<string, { routes: readonly { destinations: readonly { subset: string | undefined }[] }[] }> }, host: string) =>
  c.routes.get(host)?.routes[0]!.destinations[0]!.subset;

describe('ConfigCompiler', () => {
  it('recompiles only what changed: the other hosts keep their compiled objects', () => {
    const compiler = new ConfigCompiler(NS);
    const first = compiler.update('1', put(vs('reviews', 'reviews', 'v1', 1), vs('ratings', 'ratings', 'v1', 2), dr('reviews', 'reviews', NS, 3)));
    const second = compiler.update('2', put(vs('reviews', 'reviews', 'v2', 1)));
    expect(second.version).to.equal('2');
    expect(subsetOf(second, REVIEWS)).to.equal('v2');
    expect(second.routes.get(RATINGS)).to.equal(first.routes.get(RATINGS));
    expect(second.destinationRules.get(REVIEWS)).to.equal(first.destinationRules.get(REVIEWS));
    expect(second.destinationRules).to.equal(first.destinationRules); // no rule changed: the same table
    // The first config is immutable: what it published did not move.
    expect(subsetOf(first, REVIEWS)).to.equal('v1');
    const third = compiler.update('3', []);
    expect(third.routes).to.equal(second.routes);
  });

  it('hands a host to the next oldest VirtualService when its owner goes, and drops it when none is left', () => {
    const compiler = new ConfigCompiler(NS);
    const older = vs('a-older', 'reviews', 'old', 10);
    const newer = vs('b-newer', 'reviews', 'new', 20);
    const sameMs = vs('a-same-ms', 'reviews', 'same-ms', 20);
    expect(subsetOf(compiler.update('1', put(newer, older)), REVIEWS)).to.equal('old');
    expect(subsetOf(compiler.update('2', put(sameMs)), REVIEWS)).to.equal('old');
    expect(subsetOf(compiler.update('3', [del(older)]), REVIEWS)).to.equal('same-ms'); // same ms: by namespace/name
    expect(subsetOf(compiler.update('4', [del(sameMs)]), REVIEWS)).to.equal('new');
    const none = compiler.update('5', [del(newer)]);
    expect(none.routes.has(REVIEWS)).to.equal(false);
    expect(none.routedHosts.has(REVIEWS)).to.equal(false);
  });

  it('moves a VirtualService that changes hosts off the old host', () => {
    const compiler = new ConfigCompiler(NS);
    compiler.update('1', put(vs('r', 'reviews', 'v1', 1)));
    const moved = compiler.update('2', put(vs('r', 'ratings', 'v1', 1)));
    expect([...moved.routes.keys()]).to.deep.equal([RATINGS]);
    expect(moved.routedHosts.get(RATINGS)).to.deep.equal([RATINGS]);
  });

  it("prefers the caller's namespace for DestinationRules, then the host's, then the oldest", () => {
    const compiler = new ConfigCompiler('web');
    const elsewhere = dr('elsewhere', 'reviews.bookinfo', 'other', 1, 'RANDOM');
    const hostNs = dr('reviews', 'reviews', NS, 2, 'ROUND_ROBIN');
    const callerNs = dr('mine', 'reviews.bookinfo', 'web', 3, 'LEAST_REQUEST');
    expect(compiler.update('1', put(elsewhere)).destinationRules.get(REVIEWS)!.source).to.equal('other/elsewhere');
    expect(compiler.update('2', put(hostNs)).destinationRules.get(REVIEWS)!.source).to.equal('bookinfo/reviews');
    expect(compiler.update('3', put(callerNs)).destinationRules.get(REVIEWS)!.source).to.equal('web/mine');
    expect(compiler.update('4', [del(callerNs), del(hostNs)]).destinationRules.get(REVIEWS)!.source).to.equal('other/elsewhere');
    expect(compiler.update('5', [del(elsewhere)]).destinationRules.has(REVIEWS)).to.equal(false);
  });

  it('rejects while the set holds a resource that does not compile, and compiles again once it is fixed or gone', () => {
    const compiler = new ConfigCompiler(NS);
    compiler.update('1', put(vs('reviews', 'reviews', 'v1', 1)));
    expect(() => compiler.update('2', put(badVs('faulty')))).to.throw(ConfigRejectedError, /^VirtualService bookinfo\/faulty: spec\.http\[0\]\.fault/);
    // A change elsewhere does not hide the held bad resource.
    expect(() => compiler.update('3', put(vs('ratings', 'ratings', 'v1', 2)))).to.throw(ConfigRejectedError, /bookinfo\/faulty/);
    expect(() => compiler.update('4', put(badVs('worse')))).to.throw(ConfigRejectedError, /faulty.*\(and 1 more resource that cannot be applied\)$/);
    expect(() => compiler.update('5', put(vs('worse', 'details', 'v1', 3)))).to.throw(ConfigRejectedError, /bookinfo\/faulty: /);
    const fixed = compiler.update('6', put(vs('faulty', 'productpage', 'v1', 4)));
    expect([...fixed.routes.keys()].sort()).to.deep.equal([
      'details.bookinfo.svc.cluster.local', 'productpage.bookinfo.svc.cluster.local', RATINGS, REVIEWS,
    ]);
    expect(() => compiler.update('7', put(badVs('gone-later')))).to.throw(ConfigRejectedError);
    expect(compiler.update('8', [del(badVs('gone-later'))]).version).to.equal('8');
  });

  it('names the resource and field of a rule it cannot apply, and a removal of it compiles again', () => {
    const compiler = new ConfigCompiler(NS);
    const bad = dr('reviews', 'reviews', NS, 1, 'NOT_A_BALANCER');
    expect(() => compiler.update('1', put(bad))).to.throw(ConfigRejectedError, /^DestinationRule bookinfo\/reviews: spec\.trafficPolicy\.loadBalancer\.simple: unknown value "NOT_A_BALANCER"/);
    expect(compiler.update('2', [del(bad)]).destinationRules.size).to.equal(0);
  });
});
