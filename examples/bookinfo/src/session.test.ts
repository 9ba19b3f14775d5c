import { expect } from 'chai';
import { createSessionCodec, parseCookies } from './session.js';

describe('productpage session cookie', () => {
  const cookieValue = (setCookie: string) => setCookie.split(';')[0]!;

  it('round-trips the user through the signed cookie', () => {
    const codec = createSessionCodec('secret');
    const cookie = cookieValue(codec.loginCookie('jason'));
    expect(codec.userFrom(`theme=dark; ${cookie}`)).to.equal('jason');
  });

  it('rejects a cookie signed with another secret or edited', () => {
    const cookie = cookieValue(createSessionCodec('a').loginCookie('jason'));
    expect(createSessionCodec('b').userFrom(cookie)).to.equal(undefined);
    const forged = cookie.replace(/=([^.]+)\./, `=${Buffer.from(JSON.stringify({ user: 'admin' })).toString('base64url')}.`);
    expect(createSessionCodec('a').userFrom(forged)).to.equal(undefined);
    expect(createSessionCodec('a').userFrom('session=garbage')).to.equal(undefined);
    expect(createSessionCodec('a').userFrom(undefined)).to.equal(undefined);
  });

  it('logout clears the cookie', () => {
    expect(createSessionCodec('s').logoutCookie()).to.match(/^session=;.*Max-Age=0/);
  });

  it('parses cookie headers leniently', () => {
    expect([...parseCookies('a=1; b = 2;junk; a=3')]).to.deep.equal([
      ['a', '1'],
      ['b', '2'],
    ]);
  });
});
