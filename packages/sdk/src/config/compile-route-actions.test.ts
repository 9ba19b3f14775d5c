import { expect } from 'chai';
import type { HTTPRoute } from '@weft/api';
import { compileConfig } from './config-compiler.js';
import { compileRouteActions, substitutionParts } from './compile-route-actions.js';
import { applyHeaderPasses, redirectLocation, rewritePath, type HeaderRecord, type RedirectAnswer } from './route-actions.js';
import { resourceMsg } from './test-resources.js';

const NS = 'shop';
const d = (host: string, extra: Record<string, unknown> = {}) => ({ destination: { host }, ...extra });

/** The request headers after the passes of destination `i`, from `start`. */
function requestAfter(route: HTTPRoute, i: number, start: HeaderRecord): HeaderRecord {
  const out = { ...start };
  applyHeaderPasses(out, compileRouteActions(route)[i]!.requestHeaders);
  return out;
}

describe('compileRouteActions (Istio translation, Envoy order)', () => {
  it('a route without headers, rewrite, redirect or directResponse has no actions', () => {
    expect(compileRouteActions({ route: [d('a'), d('b')] })).to.deep.equal([undefined, undefined]);
  });

  it('set replaces, add appends, remove deletes, removals first; names in lower case, %% read as %, empty values dropped', () => {
    const route: HTTPRoute = { route: [d('a')], headers: { request: { set: { 'X-Set': 'new', 'x-pct': '100%%', 'x-empty': '' }, add: { 'x-add': 'two' }, remove: ['X-Gone', 'x-set'] } } };
    expect(requestAfter(route, 0, { 'x-set': 'old', 'x-add': 'one', 'x-gone': 'g', 'x-empty': 'kept' })).to.deep.equal({
      'x-set': 'new', 'x-add': ['one', 'two'], 'x-pct': '100%', 'x-empty': 'kept',
    });
  });

  it("one destination: one pass, the destination's set after the route's (it wins)", () => {
    const route: HTTPRoute = { headers: { request: { set: { 'x-who': 'route' } } }, route: [d('a', { headers: { request: { set: { 'x-who': 'dest' } } } })] };
    expect(compileRouteActions(route)[0]!.requestHeaders).to.have.length(1);
    expect(requestAfter(route, 0, {})).to.deep.equal({ 'x-who': 'dest' });
  });

  it("several destinations: the destination's pass, then the route's (the route's set wins, its remove reaches the destination's add)", () => {
    const route: HTTPRoute = {
      headers: { request: { set: { 'x-who': 'route' }, remove: ['x-dest-only'] } },
      route: [d('a', { weight: 50, headers: { request: { set: { 'x-who': 'dest' }, add: { 'x-dest-only': '1', 'x-kept': 'k' } } } }), d('b', { weight: 50 })],
    };
    expect(compileRouteActions(route)[0]!.requestHeaders).to.have.length(2);
    expect(requestAfter(route, 0, {})).to.deep.equal({ 'x-who': 'route', 'x-kept': 'k' });
    expect(requestAfter(route, 1, {})).to.deep.equal({ 'x-who': 'route' });
  });

  it("host in headers is an authority rewrite: rewrite.authority first, then the route's set, add, then the destination's", () => {
    const one = (r: HTTPRoute) => compileRouteActions(r)[0]!.authority;
    expect(one({ route: [d('a')], headers: { request: { add: { Host: 'added' } } } })).to.equal('added');
    expect(one({ route: [d('a', { headers: { request: { set: { ':authority': 'dest' } } } })] })).to.equal('dest');
    expect(one({ route: [d('a', { headers: { request: { set: { host: 'dest' } } } })], headers: { request: { set: { host: 'route' } } } })).to.equal('route');
    expect(one({ route: [d('a', { headers: { request: { set: { host: 'dest' } } } })], rewrite: { authority: 'rw' } })).to.equal('rw');
    expect(compileRouteActions({ route: [d('a')], headers: { request: { set: { host: 'h' } } } })[0]!.requestHeaders).to.deep.equal([]);
  });

  it('response operations are passes of their own, in the same order', () => {
    const route: HTTPRoute = { route: [d('a', { headers: { response: { add: { 'x-d': '1' } } } })], headers: { response: { set: { server: 'weft' }, remove: ['x-powered-by'] } } };
    const res: HeaderRecord = { server: 'node', 'x-powered-by': 'express' };
    applyHeaderPasses(res, compileRouteActions(route)[0]!.responseHeaders);
    expect(res).to.deep.equal({ server: 'weft', 'x-d': '1' });
  });

  it('redirect and directResponse compile to one answer with the route response headers; their decision subscribes no host', () => {
    const [redirect] = compileRouteActions({ redirect: { uri: '/v1', derivePort: 'FROM_REQUEST_PORT' }, headers: { response: { set: { 'x-r': '1' } } } });
    expect(redirect!.answer).to.deep.equal({ kind: 'redirect', status: 301, scheme: undefined, authority: undefined, port: 'request', path: '/v1' });
    expect(redirect!.responseHeaders).to.have.length(1);
    const [direct] = compileRouteActions({ directResponse: { status: 418, body: { bytes: Buffer.from('tea').toString('base64') } } });
    expect(direct!.answer).to.deep.include({ kind: 'direct', status: 418 });
    expect(Buffer.from((direct!.answer as { body: Uint8Array }).body).toString()).to.equal('tea');
    const config = compileConfig('1', [resourceMsg('VirtualService', NS, 'r', { hosts: ['reviews'], http: [{ match: [{ uri: { prefix: '/old' } }], redirect: { uri: '/new' } }, { route: [d('reviews')] }] })], NS);
    expect(config.routedHosts.get(`reviews.${NS}.svc.cluster.local`)).to.deep.equal([`reviews.${NS}.svc.cluster.local`]);
  });

  it("reads RE2's rewrite string: \\1 a group, \\\\ a backslash", () => {
    expect(substitutionParts('/customprefix/\\2/\\1')).to.deep.equal(['/customprefix/', 2, '/', 1]);
    expect(substitutionParts('\\0-\\\\x')).to.deep.equal([0, '-\\x']);
  });
});

describe('route actions at request time', () => {
  const prefix = (value: string) => ({ kind: 'prefix' as const, value });
  it("rewrite.uri replaces the matched prefix (Envoy's prefix_rewrite), the whole path for a regex match; the query stays", () => {
    expect(rewritePath('/api/v1/x?q=1', '/api/v1/x', 4, prefix('/v2'))).to.equal('/v2/v1/x?q=1');
    expect(rewritePath('/ratings?q=1', '/ratings', 8, prefix('/v1/bookRatings'))).to.equal('/v1/bookRatings?q=1');
    expect(rewritePath('/foo', '/foo', 1, prefix('/v2/'))).to.equal('/v2/foo'); // no uri match: Envoy's prefix "/"
    expect(rewritePath('/r/12?x', '/r/12', -1, prefix('/all'))).to.equal('/all?x');
  });

  it('uriRegexRewrite replaces every match in the path with groups substituted (the query is not searched)', () => {
    const rw = { kind: 'regex' as const, pattern: /^\/service\/([^/]+)(\/.*)$/g, parts: ['/customprefix', 2, '/', 1] };
    expect(rewritePath('/service/update/v1/api?a=/service/x', '/service/update/v1/api', 1, rw)).to.equal('/customprefix/v1/api/update?a=/service/x');
    const every = { kind: 'regex' as const, pattern: /a/g, parts: ['<', 0, '>'] };
    expect(rewritePath('/banana', '/banana', 1, every)).to.equal('/b<a>n<a>n<a>');
  });

  const redirect = (extra: Partial<RedirectAnswer>): RedirectAnswer => ({ kind: 'redirect', status: 301, scheme: undefined, authority: undefined, port: undefined, path: undefined, ...extra });
  it("builds the Location as Envoy's newUri with Istio's port rules", () => {
    expect(redirectLocation(redirect({ path: '/v1/bookRatings', authority: 'newratings.default.svc.cluster.local' }), 'ratings:9080', 9080, '/ratings?x=1')).to.equal(
      'http://newratings.default.svc.cluster.local/v1/bookRatings?x=1',
    );
    expect(redirectLocation(redirect({ path: '/new?y=2' }), 'ratings:9080', 9080, '/old?x=1')).to.equal('http://ratings:9080/new?y=2');
    expect(redirectLocation(redirect({ port: 'request', authority: 'other' }), 'ratings:9080', 9080, '/p')).to.equal('http://other:9080/p');
    expect(redirectLocation(redirect({ port: 'request' }), 'ratings', undefined, '/p')).to.equal('http://ratings/p'); // 80 with http: none written
    expect(redirectLocation(redirect({ port: 8080 }), 'ratings:9080', 9080, '/p')).to.equal('http://ratings:8080/p');
    expect(redirectLocation(redirect({ scheme: 'https' }), 'ratings:80', undefined, '/p')).to.equal('https://ratings/p');
    expect(redirectLocation(redirect({ scheme: 'https' }), 'ratings:9080', 9080, '/p')).to.equal('https://ratings:9080/p');
    // Istio drops port 443 with https, and Envoy then keeps the request's own port (only :80 goes with a scheme change).
    expect(redirectLocation(redirect({ scheme: 'https', port: 443 }), 'ratings:9080', 9080, '/p')).to.equal('https://ratings:9080/p');
    expect(redirectLocation(redirect({ scheme: 'https', port: 443 }), 'ratings', undefined, '/p')).to.equal('https://ratings/p');
    expect(redirectLocation(redirect({ port: 8080 }), '[::1]:9080', 9080, '/p')).to.equal('http://[::1]:8080/p');
    expect(redirectLocation(redirect({ path: 'rel' }), 'r', undefined, '/p')).to.equal('http://r/rel');
  });
});
