// The write-ahead log's record framing: [payload length u32 BE][crc32 of payload u32 BE][payload].
// A record is trusted only when its whole frame is present and its checksum matches. Whether a frame
// that fails is a torn tail (a crash during the last write) or damage is decided in wal-reader.ts,
// which knows what a record holds; this module only finds frames and says why one is not intact.
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

/** Why the frame at `offset` is not intact. */
export type FrameFault =
  /** Fewer than 8 bytes left: a header cut short. */
  | { kind: 'incomplete-header'; offset: number }
  /** Length 0: never written by encodeRecord; zeros (a zero-filled tail, or a zeroed block). */
  | { kind: 'zero-length'; offset: number }
  /** A length no record can have. */
  | { kind: 'impossible-length'; offset: number; length: number }
  /** The length runs past the end of the log. */
  | { kind: 'past-end'; offset: number; length: number }
  /** The whole frame is there but its payload does not match its checksum. */
  | { kind: 'checksum'; offset: number; length: number; end: number };

export interface DecodedFrame {
  offset: number;
  /** Offset just after the frame. */
  end: number;
  payload: Buffer;
}

export interface DecodedFrames {
  frames: DecodedFrame[];
  /** Offset just after the last intact frame (or `from` when there is none). */
  validLength: number;
  /** The frame decoding stopped at, when it stopped before the end of the buffer. */
  fault?: FrameFault;
}

/** The frame at `offset` if it is intact, else why not. */
export function frameAt(log: Buffer, offset: number): DecodedFrame | FrameFault {
  if (log.length - offset < FRAME_HEADER_BYTES) return { kind: 'incomplete-header', offset };
  const length = log.readUInt32BE(offset);
  if (length === 0) return { kind: 'zero-length', offset };
  if (length > MAX_RECORD_BYTES) return { kind: 'impossible-length', offset, length };
  const end = offset + FRAME_HEADER_BYTES + length;
  if (end > log.length) return { kind: 'past-end', offset, length };
  const payload = log.subarray(offset + FRAME_HEADER_BYTES, end);
  if (crc32(payload) !== log.readUInt32BE(offset + 4)) return { kind: 'checksum', offset, length, end };
  return { offset, end, payload };
}

export function isFrameFault(f: DecodedFrame | FrameFault): f is FrameFault {
  return 'kind' in f;
}

/** Decodes consecutive frames from `from` until the end of the buffer or the first frame that is not intact. */
export function decodeFrames(log: Buffer, from = 0): DecodedFrames {
  const frames: DecodedFrame[] = [];
  let offset = from;
  while (offset < log.length) {
    const f = frameAt(log, offset);
    if (isFrameFault(f)) return { frames, validLength: offset, fault: f };
    frames.push(f);
    offset = f.end;
  }
  return { frames, validLength: offset };
}

/**
 * The first offset in [from, log.length) where an intact frame starts that `accept` accepts, if any.
 * `firstByte`, when given, is what every payload starts with ('{' for JSON).
 */
export function findIntactFrame(log: Buffer, from: number, accept: (payload: Buffer) => boolean, firstByte?: number): DecodedFrame | undefined {
  // Cheap to scan: a length field must be 1..remaining bytes, which rules out nearly every offset
  // inside JSON text (no byte of it is 0x00), and the first payload byte most of the rest (in random
  // garbage), before any checksum is computed.
  for (let offset = from; offset + FRAME_HEADER_BYTES < log.length; offset++) {
    const length = log.readUInt32BE(offset);
    if (length === 0 || length > log.length - offset - FRAME_HEADER_BYTES) continue;
    if (firstByte !== undefined && log[offset + FRAME_HEADER_BYTES] !== firstByte) continue;
    const f = frameAt(log, offset);
    if (!isFrameFault(f) && accept(f.payload)) return f;
  }
  return undefined;
}

export function describeFrameFault(f: FrameFault): string {
  switch (f.kind) {
    case 'incomplete-header':
      return 'a record header cut short by the end of the file';
    case 'zero-length':
      return 'zero bytes where a record header should be';
    case 'impossible-length':
      return `a record length of ${f.length} bytes, more than any record can have (the length field is garbage)`;
    case 'past-end':
      return `a record of ${f.length} bytes that runs past the end of the file`;
    case 'checksum':
      return `a record of ${f.length} bytes whose checksum does not match its content`;
  }
}

/** True when every byte of log[from..] is zero (also when there is none). */
export function isZeroFilled(log: Buffer, from: number): boolean {
  for (let i = from; i < log.length; i++) if (log[i] !== 0) return false;
  return true;
}
