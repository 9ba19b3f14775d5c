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

  it('judges hosts: single labels and the cluster suffix are mesh, IPs and localhost direct, other dotted names open', () => {
    const v4 = p.parse('http://127.0.0.1:8080/a');
    expect(v4).to.include({ kind: 'direct', host: '127.0.0.1', loopback: true });
    expect(p.parse('http://[::1]:8080/a')).to.include({ kind: 'direct', host: '::1', loopback: true });
    expect(p.parse('http://10.1.2.3/')).to.include({ kind: 'direct', loopback: false });
    expect(p.parse('http://localhost:3000/')).to.include({ kind: 'direct', loopback: true });
    expect(p.parse('http://ratings/').kind).to.equal('mesh');
    expect(p.parse('http://ratings.bookinfo.svc.cluster.local/').kind).to.equal('mesh');
    // `example.com` reads as service `example` in namespace `com`: only weftd's answer can tell.
    expect(p.parse('http://example.com/')).to.include({ kind: 'dns', host: 'example.com', fqdn: 'example.com.svc.cluster.local' });
    expect(p.parse('http://ratings.bookinfo/')).to.include({ kind: 'dns', fqdn: 'ratings.bookinfo.svc.cluster.local' });
    expect(p.parse('http://api.github.com/')).to.include({ kind: 'dns', fqdn: 'api.github.com' });
  });

  it('takes https:// for hosts outside the mesh, and refuses it for mesh services', () => {
    const t = p.parse('https://api.github.com/repos?x=1');
    expect(t).to.include({ scheme: 'https', host: 'api.github.com', path: '/repos?x=1', servicePort: undefined });
    expect(p.parse('HTTPS://API.github.com:8443/').servicePort).to.equal(8443);
    expect(p.parse(new URL('https://example.com/a')).scheme).to.equal('https');
    expect(p.parse('http://ratings/').scheme).to.equal('http');
    expect(() => p.parse('https://ratings/x')).to.throw(/names the mesh service ratings\.bookinfo\.svc\.cluster\.local with https:\/\//);
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
    expect(() => p.parse('ftp://ratings/')).to.throw(/scheme "ftp:"/);
  });
});
