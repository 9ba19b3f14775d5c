import { expect } from 'chai';
import { parse } from 'yaml';
import { escapeLines, escapeText, toSafeJson, toSafeYaml } from './terminal-text.js';

const HOSTILE = { name: 'r\u001b]0;owned\u0007', host: 'h\u009b2J', note: 'a\u202eb\nsecond line\twith tab', 'k\u001b[1m': 'v', n: 1 };
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('terminal text', () => {
  it('escapes visibly in cells and messages; lines keep their newlines and tabs', () => {
    expect(escapeText('a\u001bb\nc')).to.equal('a\\x1bb\\x0ac');
    expect(escapeLines('a\u001bb\nc\td\u2066')).to.equal('a\\x1bb\nc\td\\u2066');
  });

  it('writes JSON with no raw unprintable character that parses back to the same value', () => {
    const out = toSafeJson(HOSTILE);
    expect(out).not.to.match(RAW);
    expect(JSON.parse(out)).to.deep.equal(HOSTILE);
  });

  it('writes YAML with no raw unprintable character that parses back to the same value', () => {
    const out = toSafeYaml(HOSTILE);
    expect(out).not.to.match(RAW);
    expect(parse(out)).to.deep.equal(HOSTILE);
    expect(toSafeYaml({ plain: 'ok', list: ['a'] })).to.equal('plain: ok\nlist:\n  - a\n');
  });
});
