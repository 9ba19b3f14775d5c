import { expect } from 'chai';
import { ExternalPools } from './external-pools.js';

describe('ExternalPools', () => {
  it('keeps one pool per origin, least recently used first out, bounded in number', async () => {
    const pools = new ExternalPools(2);
    const a = pools.get('http://a.example:80');
    const b = pools.get('https://b.example:443');
    expect(pools.get('http://a.example:80')).to.equal(a); // a is now the most recent
    const c = pools.get('http://c.example:80'); // evicts b
    expect(pools.size).to.equal(2);
    expect(b.closed).to.equal(true);
    expect(a.closed).to.equal(false);
    expect(pools.get('https://b.example:443')).to.not.equal(b); // a new pool; evicts a
    expect(a.closed).to.equal(true);
    const left = pools.takeAll();
    expect(left).to.have.length(2).and.include(c);
    expect(pools.size).to.equal(0);
    await Promise.all([a, b, c, ...left].map((p) => p.close().catch(() => undefined)));
  });
});
