import { expect } from 'chai';
import { formatAge, formatLabels, formatTable } from './table.js';

describe('weftctl tables', () => {
  it('aligns columns under their headers', () => {
    const out = formatTable(['NAMESPACE', 'NAME', 'AGE'], [['bookinfo', 'reviews', '5s'], ['default', 'a-much-longer-name', '10m']]);
    expect(out.split('\n')).to.deep.equal([
      'NAMESPACE   NAME                 AGE',
      'bookinfo    reviews              5s',
      'default     a-much-longer-name   10m',
    ]);
  });

  it('formats ages like kubectl', () => {
    expect(formatAge(0)).to.equal('0s');
    expect(formatAge(59_000)).to.equal('59s');
    expect(formatAge(150_000)).to.equal('2m30s');
    expect(formatAge(30 * 60_000)).to.equal('30m');
    expect(formatAge(3 * 3_600_000 + 10 * 60_000)).to.equal('3h10m');
    expect(formatAge(20 * 3_600_000)).to.equal('20h');
    expect(formatAge(5 * 86_400_000)).to.equal('5d');
    expect(formatAge(-5)).to.equal('0s');
  });

  it('formats labels sorted by key', () => {
    expect(formatLabels({ version: 'v1', app: 'reviews' })).to.equal('app=reviews,version=v1');
    expect(formatLabels({})).to.equal('<none>');
  });
});

describe('weftctl tables with hostile text', () => {
  it('shows control, bidi and newline characters of a cell escaped, keeping the columns aligned', () => {
    const out = formatTable(['NAME', 'HOST'], [['a\u001b[31m', 'x\u009b2J\u202e'], ['b', 'two\nlines']]);
    expect(out.split('\n')).to.deep.equal([
      'NAME        HOST',
      'a\\x1b[31m   x\\x9b2J\\u202e',
      'b           two\\x0alines',
    ]);
    expect(out).not.to.match(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
  });
});
