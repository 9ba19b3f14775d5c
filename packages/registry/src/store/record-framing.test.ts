import { expect } from 'chai';
import { decodeFrames, encodeRecord, findIntactFrame, FRAME_HEADER_BYTES, isZeroFilled, MAX_RECORD_BYTES } from './record-framing.js';

const rec = (s: string) => encodeRecord(Buffer.from(s));
const texts = (frames: { payload: Buffer }[]) => frames.map((f) => f.payload.toString());

describe('WAL record framing', () => {
  it('round-trips a sequence of records with their offsets', () => {
    const log = Buffer.concat([rec('one'), rec('2'), rec('three')]);
    const out = decodeFrames(log);
    expect(texts(out.frames)).to.deep.equal(['one', '2', 'three']);
    expect(out.frames.map((f) => f.offset)).to.deep.equal([0, 11, 20]);
    expect(out.validLength).to.equal(log.length);
    expect(out.fault).to.equal(undefined);
  });

  it('stops at a cut at every possible point, naming what it found', () => {
    const first = rec('first');
    const second = rec('second record');
    const log = Buffer.concat([first, second]);
    for (let cut = first.length + 1; cut < log.length; cut++) {
      const out = decodeFrames(log.subarray(0, cut));
      expect(texts(out.frames), `cut ${cut}`).to.deep.equal(['first']);
      expect(out.validLength).to.equal(first.length);
      expect(out.fault?.kind, `cut ${cut}`).to.equal(cut - first.length < FRAME_HEADER_BYTES ? 'incomplete-header' : 'past-end');
      expect(out.fault?.offset).to.equal(first.length);
    }
  });

  it('tells a checksum mismatch, a zero header and an impossible length apart', () => {
    const first = rec('first');
    const flipped = Buffer.concat([first, rec('second'), rec('third')]);
    flipped[first.length + FRAME_HEADER_BYTES + 2]! ^= 0x01;
    expect(decodeFrames(flipped).fault).to.deep.equal({ kind: 'checksum', offset: first.length, length: 6, end: first.length + 14 });
    expect(decodeFrames(Buffer.concat([first, Buffer.alloc(64)])).fault).to.deep.equal({ kind: 'zero-length', offset: first.length });
    const huge = Buffer.concat([first, rec('x')]);
    huge.writeUInt32BE(MAX_RECORD_BYTES + 1, first.length);
    expect(decodeFrames(huge).fault?.kind).to.equal('impossible-length');
    expect(() => encodeRecord(Buffer.alloc(0))).to.throw(RangeError);
  });

  it('finds the next intact frame after damage, at any alignment', () => {
    const garbage = Buffer.from('garbage!');
    for (let pad = 0; pad < 5; pad++) {
      const log = Buffer.concat([rec('first'), garbage, Buffer.alloc(pad, 0xaa), rec('{"later":1}')]);
      const found = findIntactFrame(log, 1, () => true);
      expect(found?.payload.toString(), `pad ${pad}`).to.equal('{"later":1}');
      expect(found?.offset).to.equal(13 + garbage.length + pad);
    }
    const log = Buffer.concat([rec('first'), rec('second')]);
    expect(findIntactFrame(log, 1, () => true)?.payload.toString()).to.equal('second');
    expect(findIntactFrame(log, 1, (p) => p.toString() !== 'second')).to.equal(undefined);
  });

  it('knows a zero-filled tail', () => {
    expect(isZeroFilled(Buffer.from([1, 0, 0]), 1)).to.equal(true);
    expect(isZeroFilled(Buffer.from([1, 0, 2]), 1)).to.equal(false);
    expect(isZeroFilled(Buffer.from([1]), 1)).to.equal(true);
  });
});
