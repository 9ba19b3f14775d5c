// Reads `-f FILE|DIR|-` arguments the way kubectl does: a directory contributes its *.yaml, *.yml and
// *.json files (sorted, not recursive); `-` is stdin. Every document is parsed and validated locally
// so errors name the file, the document number and the field before anything is sent.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, readYamlDocuments, type ManifestDocument } from '@weft/api';

const MANIFEST_EXTENSIONS = /\.(ya?ml|json)$/i;

export class ManifestReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestReadError';
  }
}

/** Expands -f arguments into (name, text) pairs, in order. */
export function readManifestSources(args: readonly string[], readStdin: () => string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const arg of args) {
    if (arg === '-') {
      out.push({ file: '-', text: readStdin() });
      continue;
    }
    let stat;
    try {
      stat = statSync(arg);
    } catch (e) {
      throw new ManifestReadError(`${arg}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    if (stat.isDirectory()) {
      const files = readdirSync(arg).filter((f) => MANIFEST_EXTENSIONS.test(f)).sort();
      if (files.length === 0) throw new ManifestReadError(`${arg}: directory has no .yaml, .yml or .json files`);
      for (const f of files) out.push({ file: join(arg, f), text: readFileSync(join(arg, f), 'utf8') });
    } else {
      out.push({ file: arg, text: readFileSync(arg, 'utf8') });
    }
  }
  return out;
}

/** Parses and validates every document of every source (throws ValidationError listing them all). */
export function parseManifestSources(sources: { file: string; text: string }[], namespace?: string): ManifestDocument[] {
  return sources.flatMap((s) => parseManifest(s.text, s.file, namespace));
}

/**
 * For delete -f: documents without validation (only kind, name and namespace matter), read with the
 * same guards as apply (nesting depth, alias expansion), every problem of every file listed.
 */
export function readDocumentsLoosely(sources: { file: string; text: string }[]): { source: string; object: unknown }[] {
  const out: { source: string; object: unknown }[] = [];
  const problems: string[] = [];
  for (const s of sources) {
    const { documents, issues } = readYamlDocuments(s.text, s.file);
    for (const d of documents) out.push({ source: d.source, object: d.value });
    for (const i of issues) problems.push(`${i.path}: ${i.message}`);
  }
  if (problems.length > 0) throw new ManifestReadError(problems.join('\n'));
  return out;
}
