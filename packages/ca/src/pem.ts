// PEM blocks in and out. Strict on what the CA reads: a block with a bad label, bad base64 or stray
// text inside is an error naming the source (a file or an option) rather than a silent partial read.
import { CaError, type CaErrorCode } from './errors.js';

export interface PemBlock {
  label: string;
  der: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
const BASE64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Every PEM block of `text`, in order. `source` names where the text came from, for the message. */
export function readPemBlocks(text: string, source: string, code: CaErrorCode): PemBlock[] {
  if (typeof text !== 'string') throw new CaError(code, `${source}: expected PEM text, got ${typeof text}`);
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const [, begin, body, end] = m;
    if (begin !== end) throw new CaError(code, `${source}: PEM block "BEGIN ${begin}" ends with "END ${end}"`);
    const lines = body!.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
    if (lines.some((l) => l.includes(':'))) throw new CaError(code, `${source}: PEM block ${begin} has headers (an encrypted key?); give an unencrypted PEM`);
    if (lines.length === 0 || !lines.every((l) => BASE64_LINE.test(l))) throw new CaError(code, `${source}: PEM block ${begin} is not valid base64`);
    const der = Buffer.from(lines.join(''), 'base64');
    if (der.length === 0) throw new CaError(code, `${source}: PEM block ${begin} is empty`);
    blocks.push({ label: begin!, der });
  }
  if (blocks.length === 0) throw new CaError(code, `${source}: no PEM block found (expected "-----BEGIN ...-----")`);
  return blocks;
}

/** The blocks of `text`, all of which must carry one of `labels`. */
export function readPemBlocksOf(text: string, labels: readonly string[], source: string, code: CaErrorCode): PemBlock[] {
  const blocks = readPemBlocks(text, source, code);
  for (const b of blocks) {
    if (!labels.includes(b.label)) throw new CaError(code, `${source}: found a PEM block "${b.label}" where ${labels.map((l) => `"${l}"`).join(' or ')} was expected`);
  }
  return blocks;
}
