import { expect } from 'chai';
import { stableStringify } from './stable-json.js';

describe('stableStringify', () => {
  it('sorts keys at every level', () => {
    expect(stableStringify({ b: 1, a: { d: [{ z: 1, y: 2 }], c: 3 } })).to.equal('{"a":{"c":3,"d":[{"y":2,"z":1}]},"b":1}');
  });

  it('keeps a __proto__ key as data (as JSON.parse made it) instead of swapping the prototype', () => {
    const parsed: unknown = JSON.parse('{"spec":{"__proto__":{"x":1},"a":2}}');
    expect(stableStringify(parsed)).to.equal('{"spec":{"__proto__":{"x":1},"a":2}}');
  });
});
