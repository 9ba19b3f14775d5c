import { expect } from 'chai';
import { normalizeHeaders } from './headers.js';

describe('normalizeHeaders', () => {
  it('lower-cases names, joins repeated ones and sets host to the authority', () => {
    const h = normalizeHeaders([['X-A', '1'], ['x-a', '2'], ['Accept', 'text/plain']], 'ratings:9080');
    expect({ ...h }).to.deep.equal({ 'x-a': ['1', '2'], accept: 'text/plain', host: 'ratings:9080' });
  });

  it('keeps headers named like Object.prototype members as plain headers', () => {
    const input = JSON.parse('{"__proto__":"p","constructor":"c","toString":"t"}') as Record<string, string>;
    const h = normalizeHeaders(input, 'ratings');
    expect(Object.getPrototypeOf(h)).to.equal(null);
    expect(Object.keys(h).sort()).to.deep.equal(['__proto__', 'constructor', 'host', 'tostring']);
    expect(h['constructor']).to.equal('c');
    expect(h['__proto__']).to.equal('p');
  });
});
