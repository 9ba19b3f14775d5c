import { expect } from 'chai';
import { encodeRecord, FRAME_HEADER_BYTES, MAX_RECORD_BYTES } from './record-framing.js';
import { formatRevisions, readLog } from './wal-reader.js';

const frame = (rev: number) => encodeRecord(Buffer.from(JSON.stringify({ rev, put: [], del: [`DestinationRule/default/r${rev}`] })));
/** Records of revisions `from`..`to`, and where each starts. */
function logOf(from: number, to: number): { log: Buffer; offsets: number[] } {
  const frames = Array.from({ length: to - from + 1 }, (_, i) => frame(from + i));
  const offsets: number[] = [];
  let at = 0;
  for (const f of frames) {
    offsets.push(at);
    at += f.length;
  }
  return { log: Buffer.concat(frames), offsets };
}
const revs = (reading: ReturnType<typeof readLog>) => reading.records.map((r) => r.record.rev);

describe('wal.log reader: torn tail or damage', () => {
  const { log, offsets } = logOf(1, 5);
  const third = offsets[2]!;

  it('reads an intact log', () => {
    const r = readLog(log);
    expect(revs(r)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(r.keptLength).to.equal(log.length);
    expect(r.tornTail).to.equal(undefined);
    expect(r.damage).to.equal(undefined);
  });

  describe('a torn tail (the unacknowledged end of the last write) is cut, keeping every record before it', () => {
    const torn = (name: string, bytes: Buffer, kept: number[]) =>
      it(name, () => {
        const r = readLog(bytes);
        expect(r.damage, JSON.stringify(r.damage)).to.equal(undefined);
        expect(revs(r)).to.deep.equal(kept);
        expect(r.tornTail).to.not.equal(undefined);
        expect(r.keptLength).to.equal(r.tornTail!.offset);
        expect(r.tornTail!.bytes).to.equal(bytes.length - r.keptLength);
      });
    torn('an incomplete header at the end', Buffer.concat([log, frame(6).subarray(0, 5)]), [1, 2, 3, 4, 5]);
    torn('a last frame whose length runs past the end', Buffer.concat([log, frame(6).subarray(0, 20)]), [1, 2, 3, 4, 5]);
    const lastFlipped = Buffer.from(log);
    lastFlipped[log.length - 3]! ^= 0x04;
    torn('a last frame ending exactly at the end whose checksum fails', lastFlipped, [1, 2, 3, 4]);
    torn('a zero-filled tail', Buffer.concat([log, Buffer.alloc(4096)]), [1, 2, 3, 4, 5]);
    torn('a last frame with a failing checksum followed only by zeros', Buffer.concat([lastFlipped, Buffer.alloc(100)]), [1, 2, 3, 4]);
    // Zeros where the start of the last write should be, then a piece of it without a whole frame:
    // a size that reached the disk before the data did. No intact record follows, so nothing acknowledged is lost.
    torn('zeros followed by a piece of the last record', Buffer.concat([log, Buffer.alloc(16), frame(6).subarray(30)]), [1, 2, 3, 4, 5]);
    it('a log with nothing but a torn first record', () => {
      const r = readLog(frame(1).subarray(0, 12));
      expect(r.records).to.deep.equal([]);
      expect(r.tornTail?.offset).to.equal(0);
      expect(r.damage).to.equal(undefined);
    });
  });

  describe('damage before the end stops everything, naming the byte offset and the intact records after it', () => {
    const damaged = (name: string, bytes: Buffer, expected: { offset: number; kept: number[]; lost: number[]; problem: RegExp }) =>
      it(name, () => {
        const r = readLog(bytes);
        expect(r.tornTail).to.equal(undefined);
        expect(r.damage, 'damage').to.not.equal(undefined);
        expect(r.damage!.offset).to.equal(expected.offset);
        expect(r.damage!.lostRevisions).to.deep.equal(expected.lost);
        expect(r.damage!.problem).to.match(expected.problem);
        expect(revs(r)).to.deep.equal(expected.kept);
        expect(r.keptLength).to.equal(expected.kept.length === 0 ? 0 : offsets[expected.kept.length]);
      });

    const flipped = Buffer.from(log);
    flipped[third + FRAME_HEADER_BYTES + 5]! ^= 0x10;
    damaged('one flipped bit in a middle record', flipped, { offset: third, kept: [1, 2], lost: [4, 5], problem: /checksum does not match.*2 intact records \(revisions 4-5\) follow it/ });

    const lastThenGarbage = Buffer.from(log);
    lastThenGarbage[log.length - 3]! ^= 0x04;
    damaged('a checksum mismatch followed by more (non-zero) data', Buffer.concat([lastThenGarbage, Buffer.from('more')]), {
      offset: offsets[4]!,
      kept: [1, 2, 3, 4],
      lost: [],
      problem: /followed by 4 more bytes/,
    });

    const longer = Buffer.from(log);
    longer.writeUInt32BE(1_000_000, third);
    damaged('a length field pointing past the end while intact frames follow', longer, { offset: third, kept: [1, 2], lost: [4, 5], problem: /runs past the end.*follow it/ });

    const shorter = Buffer.from(log);
    shorter.writeUInt32BE(shorter.readUInt32BE(third) - 7, third);
    damaged('a length field too short', shorter, { offset: third, kept: [1, 2], lost: [4, 5], problem: /checksum/ });

    const impossible = Buffer.from(log);
    impossible.writeUInt32BE(MAX_RECORD_BYTES + 1, offsets[4]!);
    damaged('an impossible length, even in the last frame', impossible, { offset: offsets[4]!, kept: [1, 2, 3, 4], lost: [], problem: /no write of weftd can produce/ });

    const zeroedBlock = Buffer.from(log);
    zeroedBlock.fill(0, third, offsets[3]);
    damaged('a zeroed block in the middle', zeroedBlock, { offset: third, kept: [1, 2], lost: [4, 5], problem: /zero bytes where a record header should be/ });

    const zeroedInside = Buffer.from(log);
    zeroedInside.fill(0, third + 10, third + 20);
    damaged('zeros inside a middle record', zeroedInside, { offset: third, kept: [1, 2], lost: [4, 5], problem: /checksum/ });

    damaged('garbage between records', Buffer.concat([log.subarray(0, third), Buffer.from('junk!'), log.subarray(third)]), {
      offset: third,
      kept: [1, 2],
      lost: [3, 4, 5],
      problem: /follow it/,
    });

    const gap = Buffer.concat([frame(1), frame(2), frame(4), frame(5)]);
    damaged('a revision gap', gap, { offset: third, kept: [1, 2], lost: [4, 5], problem: /revision 4 right after the record of revision 2/ });

    const repeated = Buffer.concat([frame(1), frame(2), frame(2), frame(3)]);
    damaged('a revision written twice', repeated, { offset: third, kept: [1, 2], lost: [2, 3], problem: /revision 2 right after the record of revision 2/ });

    const notARecord = Buffer.concat([frame(1), frame(2), encodeRecord(Buffer.from('{"rev":"three"}')), frame(4)]);
    damaged('a record with a matching checksum that is not a store record', notARecord, { offset: third, kept: [1, 2], lost: [4], problem: /not a store record: rev is "three"/ });

    damaged('damage in the very first record', Buffer.concat([Buffer.from('x'), log.subarray(1)]), { offset: 0, kept: [], lost: [2, 3, 4, 5], problem: /follow it/ });

    it('every single flipped bit of a middle record is damage, never a torn tail', () => {
      for (let byte = third; byte < offsets[3]!; byte++) {
        for (let bit = 0; bit < 8; bit++) {
          const bytes = Buffer.from(log);
          bytes[byte]! ^= 1 << bit;
          const r = readLog(bytes);
          expect(r.damage, `byte ${byte} bit ${bit}`).to.not.equal(undefined);
          expect(revs(r), `byte ${byte} bit ${bit}`).to.deep.equal([1, 2]);
          expect(r.damage!.lostRevisions, `byte ${byte} bit ${bit}`).to.deep.equal([4, 5]);
        }
      }
    });
  });

  it('formats revision lists as runs', () => {
    expect(formatRevisions([4, 5, 6, 9, 11, 12])).to.equal('4-6, 9, 11-12');
    expect(formatRevisions([7])).to.equal('7');
  });
});
