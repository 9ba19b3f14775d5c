import { expect } from 'chai';
import { formatJoinToken, parseJoinToken } from './proto.js';

describe('join tokens', () => {
  const parts = { id: '0123456789abcdef', secret: 'A'.repeat(42) + 'g', caHash: 'f'.repeat(64) };

  it('round-trips its parts, surrounding white space ignored ($(weftctl ...) keeps none, files may)', () => {
    const token = formatJoinToken(parts);
    expect(token).to.equal(`weft1.${parts.id}.${parts.secret}.${parts.caHash}`);
    expect(parseJoinToken(`${token}\n`)).to.deep.equal(parts);
  });

  it('says what a malformed token should look like, without repeating it', () => {
    for (const bad of ['', 'weft1.x', `weft2.${parts.id}.${parts.secret}.${parts.caHash}`, `weft1.${parts.id}.${parts.secret}.${'F'.repeat(64)}`]) {
      expect(() => parseJoinToken(bad)).to.throw(/not a Weft join token \(expected weft1\.<16 hex id>/);
    }
    expect(() => parseJoinToken('weft1.supersecret')).to.throw().with.property('message').that.does.not.contain('supersecret');
    expect(() => formatJoinToken({ ...parts, id: 'short' })).to.throw(/malformed/);
  });
});
