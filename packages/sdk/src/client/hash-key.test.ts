// The hash keys of consistent-hash balancing: cookie and query parsing, the cookie made when absent,
// the workload's own address.
import { expect } from 'chai';
import { hashString } from '../balancer/hash.js';
import type { HashKeySource } from '../config/traffic-policy.js';
import { cookieValue, queryParameter, requestHash, sourceAddress } from './hash-key.js';
import type { OutboundRequest } from './pipeline.js';
import { TargetParser } from './target.js';

const parser = new TargetParser('shop');
function req(url: string, headers: Record<string, string | string[]> = {}): OutboundRequest {
  return { method: 'GET', target: parser.parse(url), headers, body: null, signal: undefined, route: undefined, endpoint: undefined, record: { flags: [], attempts: 0 } };
}

describe('consistent-hash keys', () => {
  it('reads a cookie among others, quoted or not, from one or several Cookie headers', () => {
    expect(cookieValue('a=1; session="abc"; b=2', 'session')).to.equal('abc');
    expect(cookieValue(['a=1', 'session=xyz'], 'session')).to.equal('xyz');
    expect(cookieValue('sessionid=1', 'session')).to.equal(undefined);
    expect(cookieValue(undefined, 'session')).to.equal(undefined);
  });

  it('reads the first value of a query parameter, percent-decoded', () => {
    expect(queryParameter('/cart?user=a%20b&user=c', 'user')).to.equal('a b');
    expect(queryParameter('/cart?x=1&user', 'user')).to.equal('');
    expect(queryParameter('/cart?name=x+y', 'name')).to.equal('x y');
    expect(queryParameter('/cart', 'user')).to.equal(undefined);
    expect(queryParameter('/cart?bad=%E0%A4%A', 'bad')).to.equal('%E0%A4%A');
  });

  it('hashes a header, a query parameter and the source address; no key, no hash', () => {
    const header: HashKeySource = { kind: 'header', name: 'x-user' };
    expect(requestHash(header, req('http://cart/', { 'x-user': 'ann' })).hash).to.equal(hashString('ann'));
    expect(requestHash(header, req('http://cart/', { 'x-user': ['a', 'b'] })).hash).to.equal(hashString('a,b'));
    expect(requestHash(header, req('http://cart/')).hash).to.equal(undefined);
    expect(requestHash({ kind: 'query', name: 'id' }, req('http://cart/x?id=7')).hash).to.equal(hashString('7'));
    expect(requestHash({ kind: 'sourceIp' }, req('http://cart/')).hash).to.equal(hashString(sourceAddress()));
  });

  it("makes a cookie only with a ttl, written as Envoy writes it; a present cookie is used as it is", () => {
    const cookie = (ttlMs: number | undefined, path?: string, attributes = ''): HashKeySource => ({ kind: 'cookie', name: 'sticky', path, ttlMs, attributes });
    expect(requestHash(cookie(undefined), req('http://cart/'))).to.deep.equal({ hash: undefined, setCookie: undefined });
    const made = requestHash(cookie(90_500, '/shop', '; SameSite=Lax'), req('http://cart/'));
    expect(made.setCookie).to.match(/^sticky="([0-9a-f]{16})"; Max-Age=90; Path=\/shop; SameSite=Lax; HttpOnly$/);
    expect(made.hash).to.equal(hashString(/"(.*)"/.exec(made.setCookie!)![1]!));
    expect(requestHash(cookie(0), req('http://cart/')).setCookie).to.match(/^sticky="[0-9a-f]{16}"; HttpOnly$/);
    expect(requestHash(cookie(1000), req('http://cart/', { cookie: 'sticky=v1' }))).to.deep.equal({ hash: hashString('v1'), setCookie: undefined });
  });
});
