// The two body forms of POST /v1/apply and /v1/delete: weftctl's parsed documents as JSON
// (`{"resources":[{source?, object}]}`, Content-Type application/json), or a raw YAML/JSON manifest
// parsed here like a file (Content-Type application/yaml). Anything else is a 4xx naming the problem.
import { isValidationError, parseManifest, quote, readYamlDocuments } from '@weft/api';
import type { BatchDocument } from '../config/config-service.js';
import { HttpError } from './http-utils.js';

const JSON_TYPES = ['application/json'];
const MANIFEST_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];
/** What fetch() sends with a string body, and what a bare client sends: told apart by the body. */
const UNTYPED = ['', 'text/plain'];
const JSON_SHAPE = 'a JSON body must be {"resources":[{"source"?: string, "object": {...}}]}';
/** A document's `source` names a file and document (`rules.yaml#2`); longer ones are not names. */
const MAX_SOURCE_LENGTH = 1024;

/**
 * Reads a batch body. `validate` false (delete) reads YAML documents without validating them, since
 * only kind and name matter there.
 */
export function parseBatchBody(body: string, contentType: string | undefined, namespace: string | undefined, validate: boolean): BatchDocument[] {
  const form = bodyForm(contentType, body);
  if (form === 'json') return parseJsonBatch(body);
  if (!validate) {
    const { documents, issues } = readYamlDocuments(body, 'body');
    if (issues.length > 0) throw new HttpError(400, 'invalid manifest; nothing was deleted', { issues: issues.map((i) => ({ source: i.path, path: '', message: i.message })) });
    return documents.map((d) => ({ source: d.source, object: d.value }));
  }
  try {
    return parseManifest(body, 'body', namespace).map((d) => ({ source: d.source, object: d.resource }));
  } catch (e) {
    if (!isValidationError(e)) throw e;
    throw new HttpError(400, 'invalid manifest; nothing was applied', {
      issues: e.issues.map((i) => ({ ...splitManifestPath(i.path), message: i.message })),
    });
  }
}

/** Which form the body is in, from its Content-Type (415 for a type that is neither). */
function bodyForm(contentType: string | undefined, body: string): 'json' | 'manifest' {
  const [typePart, ...params] = (contentType ?? '').split(';');
  const type = typePart!.trim().toLowerCase();
  for (const p of params) {
    const [name, value] = p.split('=').map((s) => s.trim().toLowerCase());
    if (name === 'charset' && value !== 'utf-8' && value !== 'utf8' && value !== '"utf-8"') {
      throw new HttpError(415, `charset ${quote(value ?? '')} is not supported; send UTF-8`);
    }
  }
  if (UNTYPED.includes(type)) return /^\s*\{\s*"resources"\s*:/.test(body) ? 'json' : 'manifest';
  if (JSON_TYPES.includes(type)) return 'json';
  if (MANIFEST_TYPES.includes(type)) return 'manifest';
  const curl = type === 'application/x-www-form-urlencoded' ? " (curl -d sends that and strips newlines; use --data-binary @file.yaml -H 'content-type: application/yaml')" : '';
  throw new HttpError(415, `content type ${quote(type)} is not supported${curl}; send application/json with {"resources":[...]}, or application/yaml with a manifest`);
}

function parseJsonBatch(body: string): BatchDocument[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    throw new HttpError(400, `bad JSON: ${(e as Error).message}`);
  }
  if (!isObject(parsed) || !Object.hasOwn(parsed, 'resources')) {
    const hint = isObject(parsed) && Object.hasOwn(parsed, 'kind') ? '; to send a manifest as it is, use Content-Type: application/yaml' : '';
    throw new HttpError(400, `${JSON_SHAPE}${hint}`);
  }
  const unknown = Object.keys(parsed).find((k) => k !== 'resources');
  if (unknown !== undefined) throw new HttpError(400, `unknown field ${quote(unknown)}; ${JSON_SHAPE}`);
  const resources = parsed['resources'];
  if (!Array.isArray(resources)) throw new HttpError(400, `"resources" must be a list; ${JSON_SHAPE}`);
  return resources.map((item: unknown, i) => {
    const shape = `resources[${i}] must be {"source"?: string, "object": {...}}`;
    if (!isObject(item) || !Object.hasOwn(item, 'object')) throw new HttpError(400, shape);
    const extra = Object.keys(item).find((k) => k !== 'source' && k !== 'object');
    if (extra !== undefined) throw new HttpError(400, `${shape}; unknown field ${quote(extra)}`);
    const source = Object.hasOwn(item, 'source') ? item['source'] : undefined;
    if (source !== undefined && (typeof source !== 'string' || source.length > MAX_SOURCE_LENGTH)) {
      throw new HttpError(400, `resources[${i}].source must be a string of at most ${MAX_SOURCE_LENGTH} characters (the file and document it came from)`);
    }
    return { source: source ?? `resources[${i}]`, object: item['object'] };
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** parseManifest's issue paths read `file#doc (Kind name) field.path`; the API reports source and field apart. */
function splitManifestPath(path: string): { source: string; path: string } {
  const m = /^(\S+(?: \([^)]*\))?)(?: (.*))?$/.exec(path);
  return m ? { source: m[1]!, path: m[2] ?? '' } : { source: path, path: '' };
}
