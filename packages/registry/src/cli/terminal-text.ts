// weftctl prints what weftd returns, and weftd may hold text from anyone (annotations may hold any
// characters; a store written by an older weftd may hold worse). Nothing reaches the operator's
// terminal raw that could drive it: control characters and bidirectional-format characters are shown
// as visible escapes in tables and messages, and as the format's own escapes in JSON and YAML (so
// that output still parses back to the same values).
import { UNPRINTABLE_PATTERN } from '@weft/api';
import { Document, Scalar, visit } from 'yaml';

const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE_PATTERN, 'g');
/** The same set without newline and tab, which multi-line output keeps. */
const UNPRINTABLE_IN_LINES = new RegExp(`(?![\\n\\t])${UNPRINTABLE_PATTERN}`, 'g');
const UNPRINTABLE_IN_LINES_ONE = new RegExp(UNPRINTABLE_IN_LINES.source);

/** `\x1b` for a code below 0x100, `\u202e` above. */
function visibleEscape(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** For one table cell or one value in a message: every unprintable character escaped, newlines too. */
export function escapeText(text: string): string {
  return text.replace(UNPRINTABLE_ALL, visibleEscape);
}

/** For whole lines of output: as escapeText, but newlines and tabs stay (they are the layout). */
export function escapeLines(text: string): string {
  return text.replace(UNPRINTABLE_IN_LINES, visibleEscape);
}

/** Indented JSON whose unprintable characters are `\uXXXX` escapes: still valid JSON, same values. */
export function toSafeJson(value: unknown): string {
  // JSON.stringify escapes C0 inside strings itself; C1 and bidi characters it leaves raw, and the
  // newlines it leaves are the indentation's own.
  return JSON.stringify(value, null, 2).replace(UNPRINTABLE_IN_LINES, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * YAML whose strings with unprintable characters are double-quoted, with those characters written
 * as YAML escapes (`\x9b`, `\u202e`): still valid YAML that reads back to the same values.
 */
export function toSafeYaml(value: unknown): string {
  const doc = new Document(value);
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && UNPRINTABLE_IN_LINES_ONE.test(node.value)) node.type = Scalar.QUOTE_DOUBLE;
    },
  });
  // yaml escapes C0 in double quotes but leaves C1 and bidi characters raw; inside the double quotes
  // forced above, their escapes read back as the same characters.
  return doc.toString().replace(UNPRINTABLE_IN_LINES, visibleEscape);
}
