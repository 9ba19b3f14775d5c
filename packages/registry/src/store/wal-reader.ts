// Reads wal.log and tells a torn tail from damage.
//
// Groups of records are appended one write at a time, and each write is fsync'd before the next one
// starts, so a crash can only leave the LAST write incomplete: a header cut short at the end of the
// file, a frame that runs past the end, a last frame whose checksum fails, or zeros at the end (a
// file whose size grew before its data reached the disk). Nothing of that was acknowledged: it is a
// torn tail, cut off at recovery. Anything else that fails is damage to bytes that may have been
// acknowledged: an intact record after the failing one proves the failing one was not the last
// write, an impossible length or a checksum failure followed by more data cannot come from a torn
// write, and a gap in revisions means records are missing. Damage is never cut off silently.
import type { StoredResource } from './stored-resource.js';
import { decodeFrames, describeFrameFault, findIntactFrame, isZeroFilled, type FrameFault } from './record-framing.js';

/** One record of the log: the write batch that made revision `rev`. */
export interface LogRecord {
  rev: number;
  put: StoredResource[];
  del: string[];
}

export interface ReadRecord {
  offset: number;
  end: number;
  record: LogRecord;
}

export interface TornTail {
  offset: number;
  bytes: number;
  problem: string;
}

export interface LogDamage {
  offset: number;
  /** What is wrong at `offset`, and why it cannot be a torn write. */
  problem: string;
  /** Revisions of the intact records after the damage: acknowledged writes a repair would lose. */
  lostRevisions: number[];
}

export interface LogReading {
  /** Intact records before any damage, in order, each one revision after the one before it. */
  records: ReadRecord[];
  /** Bytes up to the end of the last of `records`. */
  keptLength: number;
  tornTail?: TornTail;
  damage?: LogDamage;
}

/** The record a payload holds, or why it holds none. */
export function parseLogRecord(payload: Buffer): LogRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    return `not JSON (${(e as Error).message})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const r = value as Partial<LogRecord>;
  if (!Number.isSafeInteger(r.rev) || (r.rev as number) < 1) return `rev is ${JSON.stringify(r.rev)}, not a revision`;
  if (!Array.isArray(r.put) || !r.put.every((p) => typeof p === 'object' && p !== null)) return 'put is not a list of resources';
  if (!Array.isArray(r.del) || !r.del.every((d) => typeof d === 'string')) return 'del is not a list of keys';
  return r as LogRecord;
}

export function readLog(log: Buffer): LogReading {
  const { frames, validLength, fault } = decodeFrames(log);
  const records: ReadRecord[] = [];
  for (const f of frames) {
    const parsed = parseLogRecord(f.payload);
    const before = records.at(-1);
    let problem: string | undefined;
    if (typeof parsed === 'string') problem = `a record with a matching checksum whose content is not a store record: ${parsed}`;
    else if (before && parsed.rev !== before.record.rev + 1) {
      problem = `a record of revision ${parsed.rev} right after the record of revision ${before.record.rev} (revisions are missing or out of order)`;
    }
    if (problem) return damaged(log, records, f.offset, problem, f.offset);
    records.push({ offset: f.offset, end: f.end, record: parsed as LogRecord });
  }
  if (!fault) return { records, keptLength: validLength };
  const after = intactRecordsFrom(log, fault.offset + 1);
  const reason = notTornReason(log, fault, after);
  if (reason) return damaged(log, records, fault.offset, `${describeFrameFault(fault)}, ${reason}`, fault.offset + 1);
  return { records, keptLength: validLength, tornTail: { offset: fault.offset, bytes: log.length - fault.offset, problem: describeFrameFault(fault) } };
}

/** Why a frame fault cannot be a torn last write, or undefined when it can. */
function notTornReason(log: Buffer, fault: FrameFault, after: ReadRecord[]): string | undefined {
  if (after.length > 0) {
    const n = after.length;
    return `and ${countOf(n, 'intact record')} (${revisionsText(after.map((r) => r.record.rev))}) follow${n === 1 ? 's' : ''} it, so it is not the torn end of the last write`;
  }
  if (fault.kind === 'impossible-length') return 'which no write of weftd can produce, not even a torn one';
  if (fault.kind === 'checksum' && !isZeroFilled(log, fault.end)) {
    return `followed by ${log.length - fault.end} more bytes, so it is not the torn end of the last write`;
  }
  return undefined;
}

function damaged(log: Buffer, records: ReadRecord[], offset: number, problem: string, scanFrom: number): LogReading {
  const lostRevisions = intactRecordsFrom(log, scanFrom).map((r) => r.record.rev);
  return { records, keptLength: records.at(-1)?.end ?? 0, damage: { offset, problem, lostRevisions } };
}

/** Every intact frame holding a store record at or after `from`, found by scanning byte by byte. */
function intactRecordsFrom(log: Buffer, from: number): ReadRecord[] {
  const out: ReadRecord[] = [];
  let parsed: LogRecord | undefined;
  const isRecord = (payload: Buffer) => {
    const p = parseLogRecord(payload);
    parsed = typeof p === 'string' ? undefined : p;
    return parsed !== undefined;
  };
  // Each found frame moves `from` past itself, so this ends after at most log.length steps.
  const brace = '{'.charCodeAt(0);
  for (let f = findIntactFrame(log, from, isRecord, brace); f; f = findIntactFrame(log, f.end, isRecord, brace)) {
    out.push({ offset: f.offset, end: f.end, record: parsed! });
  }
  return out;
}

/** `3`, `3-7`, `3-7, 9, 12-13` (at most 10 runs, then `…`). */
export function formatRevisions(revs: readonly number[]): string {
  const runs: string[] = [];
  let i = 0;
  while (i < revs.length) {
    let j = i;
    while (j + 1 < revs.length && revs[j + 1] === revs[j]! + 1) j++;
    runs.push(i === j ? String(revs[i]) : `${revs[i]}-${revs[j]}`);
    i = j + 1;
  }
  return runs.length > 10 ? `${runs.slice(0, 10).join(', ')}, …` : runs.join(', ');
}

/** `1 record`, `3 records`. */
export function countOf(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** `revision 3`, `revisions 3-7`. */
export function revisionsText(revs: readonly number[]): string {
  return `revision${revs.length === 1 ? '' : 's'} ${formatRevisions(revs)}`;
}
