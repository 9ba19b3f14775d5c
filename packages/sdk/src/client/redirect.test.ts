import { expect } from 'chai';
import { Readable } from 'node:stream';
import { isWeftErrorCode } from '../errors.js';
import { MAX_REDIRECTS, isRedirectStatus, nextHop, type Hop } from './redirect.js';

const post: Hop = {
  url: 'http://ratings/login?next=1',
  method: 'POST',
  headers: { host: 'ratings', 'content-type': 'text/plain', 'content-length': '2', authorization: 'Bearer t', cookie: 'a=1', 'x-keep': 'yes' },
  body: 'hi',
};

function failure(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
}

describe('nextHop (fetch redirect semantics)', () => {
  it('knows the redirect statuses', () => {
    expect([301, 302, 303, 307, 308].every(isRedirectStatus)).to.equal(true);
    expect([300, 304, 305, 306, 200].some(isRedirectStatus)).to.equal(false);
  });

  it('301/302 turn POST into GET and drop the body and its headers; 303 turns everything but GET/HEAD into GET', () => {
    for (const status of [301, 302, 303]) {
      const next = nextHop(post, status, '/done', 0);
      expect(next, String(status)).to.deep.equal({
        url: 'http://ratings/done',
        method: 'GET',
        headers: { host: 'ratings', authorization: 'Bearer t', cookie: 'a=1', 'x-keep': 'yes' },
        body: null,
      });
    }
    expect(nextHop({ ...post, method: 'PUT' }, 302, '/x', 0)).to.include({ method: 'PUT', body: 'hi' });
    expect(nextHop({ ...post, method: 'PUT' }, 303, '/x', 0)).to.include({ method: 'GET', body: null });
    expect(nextHop({ ...post, method: 'HEAD', body: null }, 303, '/x', 0).method).to.equal('HEAD');
  });

  it('307/308 keep method, body and body headers', () => {
    for (const status of [307, 308]) {
      const next = nextHop(post, status, 'http://ratings/again', 0);
      expect(next.method).to.equal('POST');
      expect(next.body).to.equal('hi');
      expect(next.headers['content-type']).to.equal('text/plain');
    }
  });

  it('a streamed body cannot be replayed: every redirect but 303 fails as in fetch', () => {
    const stream = { ...post, body: Readable.from(['x']) };
    for (const status of [301, 302, 307, 308]) {
      const e = failure(() => nextHop(stream, status, '/x', 0));
      expect(isWeftErrorCode(e, 'REDIRECT_FAILED'), String(status)).to.equal(true);
      expect((e as Error).message).to.match(/stream/);
    }
    expect(nextHop(stream, 303, '/x', 0).body).to.equal(null);
  });

  it('resolves a relative Location against the request URL', () => {
    expect(nextHop(post, 307, 'other?y=2', 0).url).to.equal('http://ratings/other?y=2');
    expect(nextHop(post, 307, '//reviews:9080/r', 0).url).to.equal('http://reviews:9080/r');
    expect(nextHop(post, 307, '?q', 0).url).to.equal('http://ratings/login?q');
  });

  it('strips authorization, cookie and host when the origin changes, keeps them when it does not', () => {
    const same = nextHop(post, 307, 'http://ratings/x', 0).headers;
    expect(same).to.include({ authorization: 'Bearer t', cookie: 'a=1', host: 'ratings' });
    for (const location of ['http://reviews/x', 'https://ratings/x', 'http://ratings:8080/x']) {
      const other = nextHop(post, 307, location, 0).headers;
      expect(other, location).to.not.have.any.keys('authorization', 'cookie', 'host', 'proxy-authorization');
      expect(other['x-keep']).to.equal('yes');
    }
  });

  it(`fails past ${MAX_REDIRECTS} redirects, on non-http(s) and on unparsable Locations`, () => {
    expect(nextHop(post, 307, '/x', MAX_REDIRECTS - 1).url).to.equal('http://ratings/x');
    expect((failure(() => nextHop(post, 307, '/x', MAX_REDIRECTS)) as Error).message).to.match(/redirect count exceeded/);
    expect((failure(() => nextHop(post, 302, 'ftp://files/x', 0)) as Error).message).to.match(/only http: and https:/);
    expect(isWeftErrorCode(failure(() => nextHop(post, 302, 'http://[::1', 0)), 'REDIRECT_FAILED')).to.equal(true);
  });
});
