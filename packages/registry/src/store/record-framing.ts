// The write-ahead log's record framing: [payload length u32 BE][crc32 of payload u32 BE][payload].
// A record is trusted only when its whole frame is present and its checksum matches, so a write torn
// by a crash (or garbage after it) is recognised and cut off at recovery.
import { crc32 } from 'node:zlib';

export const FRAME_HEADER_BYTES = 8;
/** Larger than any sane write batch; a length above it can only be garbage. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/** Payloads are never empty: an all-zero header (length 0, crc32('') = 0) is what a zero-filled tail looks like. */
export function encodeRecord(payload: Buffer): Buffer {
  if (payload.length === 0) throw new RangeError('a WAL record cannot be empty');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt32BE(crc32(payload), 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export interface DecodedLog {
  records: Buffer[];
  /** Bytes up to the end of the last intact record; everything after it was never acknowledged. */
  validLength: number;
  /** Why decoding stopped before the end of the buffer, if it did. */
  tornReason?: string;
}

/** Decodes records from the start of a log until its end or the first torn/corrupt frame. */
export function decodeRecords(log: Buffer): DecodedLog {
  const records: Buffer[] = [];
  let offset = 0;
  while (offset < log.length) {
    if (log.length - offset < FRAME_HEADER_BYTES) return { records, validLength: offset, tornReason: `incomplete header at byte ${offset}` };
    const length = log.readUInt32BE(offset);
    const checksum = log.readUInt32BE(offset + 4);
    if (length === 0) return { records, validLength: offset, tornReason: `empty record (zero-filled tail?) at byte ${offset}` };
    if (length > MAX_RECORD_BYTES) return { records, validLength: offset, tornReason: `impossible length ${length} at byte ${offset}` };
    const end = offset + FRAME_HEADER_BYTES + length;
    if (end > log.length) return { records, validLength: offset, tornReason: `incomplete record at byte ${offset}` };
    const payload = log.subarray(offset + FRAME_HEADER_BYTES, end);
    if (crc32(payload) !== checksum) return { records, validLength: offset, tornReason: `checksum mismatch at byte ${offset}` };
    records.push(payload);
    offset = end;
  }
  return { records, validLength: offset };
}
