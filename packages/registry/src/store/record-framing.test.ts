import { expect } from 'chai';
import { decodeRecords, encodeRecord, FRAME_HEADER_BYTES } from './record-framing.js';

const rec = (s: string) => encodeRecord(Buffer.from(s));

describe('WAL record framing', () => {
  it('round-trips a sequence of records', () => {
    const log = Buffer.concat([rec('one'), rec('2'), rec('three')]);
    const out = decodeRecords(log);
    expect(out.records.map((r) => r.toString())).to.deep.equal(['one', '2', 'three']);
    expect(out.validLength).to.equal(log.length);
    expect(out.tornReason).to.equal(undefined);
  });

  it('stops at a torn tail at every possible cut point', () => {
    const first = rec('first');
    const second = rec('second record');
    const log = Buffer.concat([first, second]);
    for (let cut = first.length + 1; cut < log.length; cut++) {
      const out = decodeRecords(log.subarray(0, cut));
      expect(out.records.map((r) => r.toString()), `cut ${cut}`).to.deep.equal(['first']);
      expect(out.validLength).to.equal(first.length);
      expect(out.tornReason).to.be.a('string');
    }
  });

  it('stops at a corrupt payload and everything after it', () => {
    const first = rec('first');
    const log = Buffer.concat([first, rec('second'), rec('third')]);
    log[first.length + FRAME_HEADER_BYTES + 2] ^= 0xff;
    const out = decodeRecords(log);
    expect(out.records.map((r) => r.toString())).to.deep.equal(['first']);
    expect(out.validLength).to.equal(first.length);
    expect(out.tornReason).to.match(/checksum/);
  });

  it('treats zero-filled garbage (a preallocated tail) as torn', () => {
    const first = rec('x');
    const out = decodeRecords(Buffer.concat([first, Buffer.alloc(64)]));
    expect(out.records).to.have.length(1);
    expect(out.validLength).to.equal(first.length);
    expect(() => encodeRecord(Buffer.alloc(0))).to.throw(RangeError);
  });
});
