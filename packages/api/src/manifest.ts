// Reading multi-document YAML (or JSON) manifests as `kubectl apply -f` does.
import { Composer, Lexer, LineCounter, Parser, type CST } from 'yaml';
import { escapeUnprintable, quote, ValidationError, type Issue } from './errors.js';
import { validateResource } from './validate.js';
import type { Resource } from './resources.js';

export interface ManifestDocument {
  /** Where it came from: `file.yaml#2` (1-based document number) or `-#1` for stdin. */
  source: string;
  resource: Resource;
}

/** One document of a YAML stream as a plain value; `source` is `file#n`. */
export interface YamlDocument {
  source: string;
  value: unknown;
}

/** An issue of reading YAML; a syntax error also carries the line it is on, with a caret under the column. */
export interface YamlIssue extends Issue {
  excerpt?: string;
}

/**
 * How deep a YAML document may nest. Istio resources nest about ten levels; the yaml package
 * composes nodes recursively, and a document of a few thousand `[` runs it out of stack (and
 * repeated, has crashed the process outright), so deeper input is refused before it is composed.
 */
export const MAX_YAML_DEPTH = 64;
/** How many alias nodes (`*name`) a document may expand: bounds a billion-laughs document. */
export const MAX_YAML_ALIAS_COUNT = 100;

/**
 * Parses every document of a YAML (or JSON) stream into plain values. Never throws for bad input:
 * syntax errors, nesting deeper than MAX_YAML_DEPTH and alias expansion beyond MAX_YAML_ALIAS_COUNT
 * come back as issues naming `file#n` and the line. Keys become own properties (`__proto__`
 * included), never the prototype. Empty documents are skipped. Input that is not a manifest at all
 * (a NUL character, as in a binary file; a document that is a bare string or number) is an issue
 * saying so, rather than a cascade of syntax errors or "must be a map".
 */
export function readYamlDocuments(text: string, file = '-'): { documents: YamlDocument[]; issues: YamlIssue[] } {
  const lines = new LineCounter();
  const where = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `line ${line}, column ${col}`;
  };
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    const line = text.slice(0, nul).split('\n').length;
    return { documents: [], issues: [{ path: file, message: `not YAML or JSON text: it holds a NUL character (line ${line}), as a binary file does; nothing of it was read` }] };
  }
  const parser = new Parser(lines.addNewLine);
  lines.addNewLine(0);
  const tokens: CST.Token[] = [];
  // Driven token by token so that the nesting is checked while it grows, in time linear in the text.
  for (const lexeme of new Lexer().lex(text)) {
    for (const token of parser.next(lexeme)) tokens.push(token);
    if (parser.stack.length > MAX_YAML_DEPTH) {
      const n = tokens.filter((t) => t.type === 'document').length + 1;
      return {
        documents: [],
        issues: [{ path: `${file}#${n}`, message: `YAML: nested more than ${MAX_YAML_DEPTH} levels deep at ${where(parser.offset)}; a resource nests far less, so nothing of this input was read` }],
      };
    }
  }
  for (const token of parser.end()) tokens.push(token);
  const documents: YamlDocument[] = [];
  const issues: YamlIssue[] = [];
  let n = 0;
  for (const doc of new Composer({ uniqueKeys: true }).compose(tokens)) {
    const source = `${file}#${++n}`;
    const [first, ...more] = doc.errors;
    if (first) {
      // The errors after the first mostly follow from it; a file of garbage would list hundreds.
      issues.push({ path: source, message: `YAML: ${first.message} at ${where(first.pos[0])}`, excerpt: excerptAt(text, first.pos[0]) });
      if (more.length > 0) issues.push({ path: source, message: `YAML: ${more.length} more syntax error${more.length > 1 ? 's' : ''} after it, which often follow from the first` });
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
    } catch (e) {
      const aliases = e instanceof ReferenceError && /alias/i.test(e.message);
      issues.push({
        path: source,
        message: aliases
          ? `YAML: its aliases (*name) expand to more than ${MAX_YAML_ALIAS_COUNT} nodes, which Weft refuses as a resource-exhaustion attack; write the values out instead`
          : `YAML: ${(e as Error).message}`,
      });
      continue;
    }
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object') {
      const shown = quote(String(value), 40);
      issues.push({ path: source, message: `not a resource but a bare ${typeof value} (${shown}): a manifest document is a map with apiVersion, kind, metadata and spec; is this a YAML or JSON manifest?` });
      continue;
    }
    documents.push({ source, value });
  }
  return { documents, issues };
}

/** How much of a long line an excerpt shows, around the column. */
const EXCERPT_WIDTH = 80;

/**
 * The line of an error and a caret under its column, compact (one line, cut around the column), with
 * tabs as spaces and control characters escaped so the caret lines up. At a blank line (the input
 * ended inside something) it shows the last line before it that is not blank, with the caret after its end.
 */
function excerptAt(text: string, offset: number): string {
  let start = text.lastIndexOf('\n', offset - 1) + 1;
  let end = lineEnd(text, start);
  let col = offset - start;
  while (!text.slice(start, end).trim() && start > 0) {
    end = start - 1;
    start = text.lastIndexOf('\n', end - 1) + 1;
    col = lineEnd(text, start) - start;
  }
  const line = text.slice(start, lineEnd(text, start));
  const from = col > EXCERPT_WIDTH - 20 ? col - (EXCERPT_WIDTH - 30) : 0;
  const shown = (s: string) => escapeUnprintable(s.replace(/\t/g, ' '));
  const before = (from > 0 ? '…' : '') + shown(line.slice(from, col));
  const rest = line.slice(col);
  const room = Math.max(0, EXCERPT_WIDTH - before.length);
  return `${before}${shown(rest.slice(0, room))}${rest.length > room ? '…' : ''}\n${' '.repeat(before.length)}^`;
}

/** Where the line that starts at `start` ends (before its \r\n or \n). */
function lineEnd(text: string, start: number): number {
  const nl = text.indexOf('\n', start);
  const end = nl < 0 ? text.length : nl;
  return end > start && text[end - 1] === '\r' ? end - 1 : end;
}

/**
 * Parses every document of a manifest and validates it. Empty documents are skipped. Throws one
 * ValidationError listing the problems of every document (each prefixed with file and document
 * number), so a batch is accepted whole or not at all. `defaultNamespace` (like `kubectl apply -n`)
 * fills metadata.namespace of documents that name none; without it they get DEFAULT_NAMESPACE.
 */
export function parseManifest(text: string, file = '-', defaultNamespace?: string): ManifestDocument[] {
  const { documents, issues } = readYamlDocuments(text, file);
  const out: ManifestDocument[] = [];
  for (const { source, value } of documents) {
    const items = isList(value) ? value.items : [value];
    items.forEach((item, k) => {
      const src = isList(value) ? `${source}.items[${k}]` : source;
      try {
        out.push({ source: src, resource: validateResource(defaultNamespace ? withNamespace(item, defaultNamespace) : item) });
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        for (const i of e.issues) issues.push({ path: `${src} ${describe(item)}${i.path ? ' ' + i.path : ''}`, message: i.message });
      }
    });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return out;
}

function ownProperty(v: unknown, key: string): unknown {
  return typeof v === 'object' && v !== null && Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : undefined;
}

function isList(v: unknown): v is { kind: 'List'; items: unknown[] } {
  return ownProperty(v, 'kind') === 'List' && Array.isArray(ownProperty(v, 'items'));
}

/** `(Kind name)` for messages; a kind or name that is not plain text is shown quoted and escaped. */
function describe(doc: unknown): string {
  const shown = (v: unknown) => (typeof v !== 'string' ? '?' : /^[A-Za-z0-9._-]{1,80}$/.test(v) ? v : quote(v, 40));
  return `(${shown(ownProperty(doc, 'kind'))} ${shown(ownProperty(ownProperty(doc, 'metadata'), 'name'))})`;
}

/** A copy of a document with metadata.namespace set when it has none (documents that are not maps are left alone). */
export function withNamespace(doc: unknown, namespace: string): unknown {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return doc;
  const d = doc as { metadata?: unknown };
  if (typeof d.metadata !== 'object' || d.metadata === null || Array.isArray(d.metadata)) return doc;
  const meta = d.metadata as { namespace?: unknown };
  if (Object.hasOwn(meta, 'namespace')) return doc;
  return { ...d, metadata: { ...meta, namespace } };
}
