import { expect } from 'chai';
import { NackLog } from './nack-log.js';

describe('NackLog', () => {
  let now: number;
  let log: NackLog;
  beforeEach(() => {
    now = 0;
    log = new NackLog({ burst: 2, intervalMs: 1000, remembered: 3, now: () => now });
  });

  it('logs the first distinct NACKs of an interval, counts the rest, and summarises them at the next interval', () => {
    expect(log.record('a', () => 'A')).to.deep.equal(['A']);
    expect(log.record('a', () => 'A')).to.deep.equal([]); // a repeat
    expect(log.record('b', () => 'B')).to.deep.equal(['B']);
    expect(log.record('c', () => 'C')).to.deep.equal([]);
    expect(log.record('d', () => 'D')).to.deep.equal([]);
    now = 1500;
    const lines = log.record('e', () => 'E');
    expect(lines).to.have.length(2);
    expect(lines[0]).to.match(/^2 more distinct NACKs not logged in the last 2 s .*the last: D$/);
    expect(lines[1]).to.equal('E');
    expect(log.summary()).to.equal(undefined);
  });

  it('forgets the oldest NACKs beyond its bound, so a forgotten one counts again', () => {
    for (const k of ['a', 'b', 'c', 'd']) log.record(k, () => k);
    now = 5000;
    expect(log.record('a', () => 'a again')).to.deep.equal(['2 more distinct NACKs not logged in the last 5 s (at most 2 are logged per 1 s); the last: d', 'a again']);
  });
});
