import { expect } from 'chai';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads Istio duration forms', () => {
    expect(parseDuration('500ms')).to.equal(500);
    expect(parseDuration('1s')).to.equal(1000);
    expect(parseDuration('1.5s')).to.equal(1500);
    expect(parseDuration('2m')).to.equal(120_000);
    expect(parseDuration('1h')).to.equal(3_600_000);
    expect(parseDuration('0s')).to.equal(0);
    expect(parseDuration('0.25ms')).to.equal(0);
  });

  it('rejects values without a unit or with a bad number, naming the value', () => {
    for (const bad of ['', '1', 's', '-1s', '1.s', '1 day', '1d', '1e3ms', 'abc']) {
      expect(() => parseDuration(bad), bad).to.throw(RangeError, JSON.stringify(bad));
    }
  });

  it('formats durations so they parse back', () => {
    for (const ms of [0, 1, 250, 1000, 1500, 60_000, 90_000, 3_600_000]) {
      expect(parseDuration(formatDuration(ms))).to.equal(ms);
    }
    expect(formatDuration(1500)).to.equal('1.5s');
    expect(formatDuration(120_000)).to.equal('2m');
  });
});
