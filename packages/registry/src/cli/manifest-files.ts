// Reads `-f FILE|DIR|-` arguments the way kubectl does: a directory contributes its *.yaml, *.yml and
// *.json files (sorted, not recursive: subdirectories are skipped); `-` is stdin. Every document is
// parsed and validated locally so errors name the file, the document number and the field before
// anything is sent. A file that is not text (a binary, UTF-16) is refused as such, before YAML would
// report it as a cascade of syntax errors.
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseManifest, readYamlDocuments, ValidationError, type ManifestDocument, type YamlIssue } from '@weft/api';

const MANIFEST_EXTENSIONS = /\.(ya?ml|json)$/i;

/** A manifest that could not be read, or read to nothing; `issues` name the document and line. */
export class ManifestReadError extends Error {
  constructor(
    message: string,
    readonly issues: YamlIssue[] = [],
  ) {
    super(message);
    this.name = 'ManifestReadError';
  }
}

/** One -f source: its name, its text, and its size on disk (for the messages about request size). */
export interface ManifestSource {
  file: string;
  text: string;
  bytes: number;
}

/** Expands -f arguments into sources, in order. */
export function readManifestSources(args: readonly string[], readStdin: () => Buffer): ManifestSource[] {
  const out: ManifestSource[] = [];
  // A file named twice (`-f a.yaml -f a.yaml`, or `-f dir -f dir/a.yaml`) is read once: twice, its
  // documents would each be "also defined by" themselves.
  const seen = new Set<string>();
  const add = (file: string) => {
    const key = realPathOf(file);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(decodeManifest(file, readManifestFile(file)));
  };
  for (const arg of args) {
    if (arg === '-') {
      if (seen.has('-')) throw new ManifestReadError('-f - is given more than once; stdin can be read only once');
      seen.add('-');
      out.push(decodeManifest('-', readStdin()));
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) throw new ManifestReadError(`${arg}: weftctl reads local files only; download it first (e.g. curl -fsSLO ${arg})`);
    let stat;
    try {
      stat = statSync(arg);
    } catch (e) {
      throw new ManifestReadError(`${arg}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    if (!stat.isDirectory()) {
      add(arg);
      continue;
    }
    const files = readdirSync(arg)
      .filter((f) => MANIFEST_EXTENSIONS.test(f))
      .sort()
      .map((f) => join(arg, f))
      .filter((f) => !isDirectory(f));
    if (files.length === 0) throw new ManifestReadError(`${arg}: the directory has no .yaml, .yml or .json files (subdirectories are not read)`);
    for (const f of files) add(f);
  }
  return out;
}

function realPathOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // a dangling link: reading it says why
  }
}

function readManifestFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file (a dangling symbolic link?)' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new ManifestReadError(`${file}: cannot read it: ${why}`);
  }
}

/** The text of a manifest, or an error saying that the file is not YAML or JSON text at all. */
export function decodeManifest(file: string, bytes: Buffer): ManifestSource {
  const notText = (why: string) => new ManifestReadError(`${file} is not YAML or JSON text: ${why}`);
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) throw notText('it is UTF-16; save it as UTF-8');
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw notText(`it holds NUL bytes (the first at byte ${nul}), as a binary file does; give -f a manifest`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const lenient = bytes.toString('utf8');
    const line = lenient.slice(0, lenient.indexOf('\ufffd')).split('\n').length;
    throw notText(`it is not valid UTF-8 (line ${line}); save it as UTF-8`);
  }
  return { file, text, bytes: bytes.length };
}

/** Parses and validates every document of every source (throws ValidationError listing them all). */
export function parseManifestSources(sources: readonly ManifestSource[], namespace?: string): ManifestDocument[][] {
  const perSource: ManifestDocument[][] = [];
  const issues: YamlIssue[] = [];
  for (const s of sources) {
    try {
      perSource.push(parseManifest(s.text, s.file, namespace));
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      issues.push(...e.issues);
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return perSource;
}

/**
 * For delete -f: documents without validation, read with the same guards as apply (nesting depth,
 * alias expansion), every problem of every file listed. Only what names a resource is kept (apiVersion,
 * kind, metadata name and namespace): weftd needs no more, and the request stays small.
 */
export function readDocumentsLoosely(sources: readonly ManifestSource[]): { source: string; object: unknown }[][] {
  const perSource: { source: string; object: unknown }[][] = [];
  const problems: YamlIssue[] = [];
  for (const s of sources) {
    const { documents, issues } = readYamlDocuments(s.text, s.file);
    perSource.push(documents.map((d) => ({ source: d.source, object: identity(d.value) })));
    problems.push(...issues);
  }
  if (problems.length > 0) throw new ManifestReadError('cannot read the manifests; nothing was deleted:', problems);
  return perSource;
}

/** The fields of a document that name the resource (a value that is not a map is kept, for weftd to report). */
function identity(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const own = (o: unknown, key: string): unknown => (typeof o === 'object' && o !== null && Object.hasOwn(o, key) ? (o as Record<string, unknown>)[key] : undefined);
  const metadata = own(value, 'metadata');
  return {
    apiVersion: own(value, 'apiVersion'),
    kind: own(value, 'kind'),
    metadata: typeof metadata === 'object' && metadata !== null ? { name: own(metadata, 'name'), namespace: own(metadata, 'namespace') } : metadata,
  };
}

/** kubectl's answer to -f input with no documents in it (empty files, only comments or `---`). */
export function noResourcesError(args: readonly string[]): ManifestReadError {
  return new ManifestReadError(`no resources found in ${args.join(', ')}`);
}
