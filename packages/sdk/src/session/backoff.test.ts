import { expect } from 'chai';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles from the base up to the cap, jittered to 50–100 %', () => {
    const top = new Backoff({ baseMs: 100, capMs: 5000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(() => top.next())).to.deep.equal([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    const bottom = new Backoff({ baseMs: 100, capMs: 5000, random: () => 0 });
    expect([bottom.next(), bottom.next()]).to.deep.equal([50, 100]);
  });

  it('starts over after reset', () => {
    const b = new Backoff({ baseMs: 100, capMs: 5000, random: () => 0.999999 });
    b.next();
    b.next();
    b.reset();
    expect(b.next()).to.equal(100);
  });
});
