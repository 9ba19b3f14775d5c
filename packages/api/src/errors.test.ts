import { expect } from 'chai';
import { escapeUnprintable, findUnprintable, quote } from './index.js';

describe('quote', () => {
  it('escapes control and bidirectional-format characters, JSON style', () => {
    expect(quote('a\u001b[31mb')).to.equal('"a\\u001b[31mb"');
    expect(quote('c\u009bd\u202ee')).to.equal('"c\\u009bd\\u202ee"');
    expect(JSON.parse(quote('x\u009by\u2066'))).to.equal('x\u009by\u2066');
  });
  it('cuts a long value and says how long it was', () => {
    expect(quote('x'.repeat(10_000), 5)).to.equal('"xxxxx…" (10000 characters)');
  });
  it('finds and escapes unprintable characters', () => {
    expect(findUnprintable('plain text, tab-free')).to.equal(-1);
    expect(findUnprintable('ab\u007f')).to.equal(2);
    expect(escapeUnprintable('a\u0007b\u200fc')).to.equal('a\\u0007b\\u200fc');
  });
});
