import { expect } from 'chai';
import { isWeftErrorCode } from '../errors.js';
import { TargetParser } from './target.js';

describe('TargetParser', () => {
  const p = new TargetParser('bookinfo');

  it('resolves short, namespaced and full names to one FQDN', () => {
    for (const url of ['http://ratings/x', 'http://ratings.bookinfo/x', 'http://ratings.bookinfo.svc.cluster.local/x', 'HTTP://Ratings/x']) {
      expect(p.parse(url).fqdn, url).to.equal('ratings.bookinfo.svc.cluster.local');
    }
    expect(p.parse('http://ratings.other/x').fqdn).to.equal('ratings.other.svc.cluster.local');
  });

  it('keeps the authority as written, the port as service port, path and query', () => {
    const t = p.parse('http://Ratings:9080/ratings/0?a=1#frag');
    expect(t.authority).to.equal('Ratings:9080');
    expect(t.servicePort).to.equal(9080);
    expect(t.path).to.equal('/ratings/0?a=1');
    expect(t.pathname).to.equal('/ratings/0');
    expect(p.parse('http://ratings').path).to.equal('/');
    expect(p.parse('http://ratings?x=1').path).to.equal('/?x=1');
    expect(p.parse('http://ratings').servicePort).to.equal(undefined);
  });

  it('passes IP literals and localhost through', () => {
    const v4 = p.parse('http://127.0.0.1:8080/a');
    expect(v4.passthrough).to.equal(true);
    expect(v4.host).to.equal('127.0.0.1');
    const v6 = p.parse('http://[::1]:8080/a');
    expect(v6.passthrough).to.equal(true);
    expect(v6.host).to.equal('::1');
    expect(p.parse('http://localhost:3000/').passthrough).to.equal(true);
    expect(p.parse('http://ratings/').passthrough).to.equal(false);
  });

  it('accepts URL objects', () => {
    const t = p.parse(new URL('http://reviews:9080/reviews/1?q=2'));
    expect(t.fqdn).to.equal('reviews.bookinfo.svc.cluster.local');
    expect(t.path).to.equal('/reviews/1?q=2');
    expect(t.servicePort).to.equal(9080);
  });

  it('rejects other schemes and malformed authorities with INVALID_ARGUMENT', () => {
    for (const bad of ['https://ratings/', 'ftp://x/', 'ratings/x', 'http:///x', 'http://a:99999/', 'http://a:b/', 'http://u@ratings/', 'http://bad_host/']) {
      expect(() => p.parse(bad), bad).to.throw().that.satisfies((e: unknown) => isWeftErrorCode(e, 'INVALID_ARGUMENT'));
    }
    expect(() => p.parse('https://ratings/')).to.throw(/scheme "https:"/);
  });
});
