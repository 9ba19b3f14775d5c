import { expect } from 'chai';
import type { OutboundRequest } from '../client/pipeline.js';
import { selectRoute } from '../client/route-stage.js';
import { TargetParser } from '../client/target.js';
import { compileConfig } from './config-compiler.js';
import { compileUriMatch, conditionsHold, firstQueryValue, rewriteLengthOf, sourceSelected, type MatchConditions } from './match-conditions.js';
import { resourceMsg } from './test-resources.js';

const NS = 'shop';
const REVIEWS = `reviews.${NS}.svc.cluster.local`;
const parser = new TargetParser(NS);
const PRODUCTPAGE = { namespace: NS, labels: { app: 'productpage', version: 'v1' } };

function req(url: string, headers: Record<string, string> = {}): OutboundRequest {
  const target = parser.parse(url);
  return { method: 'GET', target, headers: { host: target.authority, ...headers }, body: null, signal: undefined, route: undefined, endpoint: undefined, record: { flags: [], attempts: 0 } };
}

/** The subset a request goes to under `http` (routes to subsets named by the test), or undefined (no route). */
function routeOf(http: unknown[], url: string, headers: Record<string, string> = {}, source = PRODUCTPAGE): string | undefined {
  const config = compileConfig('1', [resourceMsg('VirtualService', NS, 'reviews', { hosts: ['reviews'], http })], NS);
  return selectRoute(config.routes.get(REVIEWS)!, req(url, headers), source)?.subset;
}
const to = (subset: string, match: unknown) => ({ match: [match], route: [{ destination: { host: 'reviews', subset } }] });

describe('match conditions: queryParams, withoutHeaders, ignoreUriCase, sourceLabels, sourceNamespace', () => {
  it("reads a query parameter's first raw value, '' for a bare key, as Envoy's parseQueryString", () => {
    expect(firstQueryValue('/a?x=1&y=2&x=3', 'x')).to.equal('1');
    expect(firstQueryValue('/a?x=1&y=2', 'y')).to.equal('2');
    expect(firstQueryValue('/a?debug&y=2', 'debug')).to.equal('');
    expect(firstQueryValue('/a?y=a=b', 'y')).to.equal('a=b');
    expect(firstQueryValue('/a?name=J%20son', 'name')).to.equal('J%20son'); // not decoded
    expect(firstQueryValue('/a?xx=1', 'x')).to.equal(undefined);
    expect(firstQueryValue('/a', 'x')).to.equal(undefined);
    expect(firstQueryValue('/a?', 'x')).to.equal(undefined);
  });

  it('queryParams: exact, prefix, a regex matching the whole value, and {} for presence; AND with the other conditions', () => {
    const http = [
      to('exact', { queryParams: { user: { exact: 'jason' } } }),
      to('regex', { queryParams: { id: { regex: '\\d+' } } }),
      to('prefix', { queryParams: { v: { prefix: '2' } } }),
      to('present', { queryParams: { debug: {} }, uri: { prefix: '/dbg' } }),
    ];
    expect(routeOf(http, 'http://reviews/x?user=jason')).to.equal('exact');
    expect(routeOf(http, 'http://reviews/x?user=jasonx')).to.equal(undefined);
    expect(routeOf(http, 'http://reviews/x?id=123')).to.equal('regex');
    expect(routeOf(http, 'http://reviews/x?id=a123')).to.equal(undefined);
    expect(routeOf(http, 'http://reviews/x?v=2.1')).to.equal('prefix');
    expect(routeOf(http, 'http://reviews/dbg?debug')).to.equal('present');
    expect(routeOf(http, 'http://reviews/other?debug')).to.equal(undefined);
  });

  it("withoutHeaders: the route matches unless the header matches; a missing header reads as ''; {} and regex '*' mean absent", () => {
    const http = [to('not-jason', { withoutHeaders: { 'end-user': { exact: 'jason' } } }), to('rest', {})];
    expect(routeOf(http, 'http://reviews/', { 'end-user': 'bob' })).to.equal('not-jason');
    expect(routeOf(http, 'http://reviews/')).to.equal('not-jason');
    expect(routeOf(http, 'http://reviews/', { 'end-user': 'jason' })).to.equal('rest');
    const absent = [to('no-canary', { withoutHeaders: { 'x-canary': {} } }), to('canary', {})];
    expect(routeOf(absent, 'http://reviews/')).to.equal('no-canary');
    expect(routeOf(absent, 'http://reviews/', { 'x-canary': '' })).to.equal('canary');
    const star = [to('no-canary', { withoutHeaders: { 'x-canary': { regex: '*' } } }), to('canary', {})];
    expect(routeOf(star, 'http://reviews/', { 'x-canary': '1' })).to.equal('canary');
    expect(routeOf(star, 'http://reviews/')).to.equal('no-canary');
    // prefix "" matches every value, "" included: such a withoutHeaders never holds.
    expect(routeOf([to('never', { withoutHeaders: { 'x-a': { prefix: '' } } })], 'http://reviews/')).to.equal(undefined);
  });

  it('ignoreUriCase: exact and prefix compare A-Z without case; a regex keeps its own case rules', () => {
    expect(compileUriMatch({ prefix: '/API/v1' }, true)('/api/V1/x')).to.equal(true);
    expect(compileUriMatch({ prefix: '/API/v1' }, false)('/api/V1/x')).to.equal(false);
    expect(compileUriMatch({ exact: '/Ratings' }, true)('/rATINGS')).to.equal(true);
    expect(compileUriMatch({ exact: '/Ratings' }, true)('/ratings/')).to.equal(false);
    expect(compileUriMatch({ exact: '/É' }, true)('/é')).to.equal(false); // ASCII only, as Envoy
    expect(compileUriMatch({ regex: '/abc' }, true)('/ABC')).to.equal(false);
    expect(routeOf([to('ci', { uri: { prefix: '/Reviews' }, ignoreUriCase: true })], 'http://reviews/REVIEWS/1')).to.equal('ci');
  });

  it("sourceLabels and sourceNamespace select the calling workload by its own labels and namespace", () => {
    const http = [to('from-pp', { sourceLabels: { app: 'productpage' }, sourceNamespace: NS }), to('rest', {})];
    expect(routeOf(http, 'http://reviews/')).to.equal('from-pp');
    expect(routeOf(http, 'http://reviews/', {}, { namespace: NS, labels: { app: 'reviews', version: 'v1' } })).to.equal('rest');
    expect(routeOf(http, 'http://reviews/', {}, { namespace: 'other', labels: { app: 'productpage', version: 'v1' } })).to.equal('rest');
    expect(sourceSelected({ labels: [['app', 'productpage'], ['version', 'v2']], namespace: undefined }, PRODUCTPAGE)).to.equal(false);
    expect(sourceSelected({ labels: [['constructor', 'x']], namespace: undefined }, { namespace: NS, labels: {} })).to.equal(false);
  });

  it('AND within a block, OR across blocks, with the new conditions as with the old', () => {
    const http = [{ match: [{ queryParams: { a: { exact: '1' } }, headers: { 'x-b': { exact: '2' } } }, { withoutHeaders: { 'x-c': {} }, uri: { exact: '/c' } }], route: [{ destination: { host: 'reviews', subset: 'hit' } }] }];
    expect(routeOf(http, 'http://reviews/x?a=1', { 'x-b': '2' })).to.equal('hit');
    expect(routeOf(http, 'http://reviews/x?a=1')).to.equal(undefined);
    expect(routeOf(http, 'http://reviews/c')).to.equal('hit');
    expect(routeOf(http, 'http://reviews/c', { 'x-c': 'y' })).to.equal(undefined);
  });

  it('a header given several times is matched joined with commas, as Envoy', () => {
    const c: MatchConditions = { queryParams: [], withoutHeaders: [{ name: 'x-a', test: (v) => v === '1,2' }], source: undefined };
    expect(conditionsHold(c, { 'x-a': ['1', '2'] }, '/', PRODUCTPAGE)).to.equal(false);
    expect(conditionsHold(c, { 'x-a': ['1'] }, '/', PRODUCTPAGE)).to.equal(true);
  });

  it('keeps how much of the path rewrite.uri replaces for each block: prefix, exact, none (/), regex (all)', () => {
    expect(rewriteLengthOf({ uri: { prefix: '/api/' } })).to.equal(5);
    expect(rewriteLengthOf({ uri: { exact: '/ratings' } })).to.equal(8);
    expect(rewriteLengthOf({ headers: {} })).to.equal(1);
    expect(rewriteLengthOf({ uri: { regex: '/r.*' } })).to.equal(-1);
  });
});
