// The two body forms of POST /v1/apply and /v1/delete: weftctl's parsed documents as JSON
// (`{"resources":[{source?, object}]}`), or a raw YAML/JSON manifest parsed here like a file.
import { isValidationError, parseManifest } from '@weft/api';
import { parseAllDocuments } from 'yaml';
import type { BatchDocument } from '../config/config-service.js';
import { HttpError } from './http-utils.js';

/**
 * Reads a batch body. `validate` false (delete) reads YAML documents without validating them, since
 * only kind and name matter there.
 */
export function parseBatchBody(body: string, contentType: string | undefined, namespace: string | undefined, validate: boolean): BatchDocument[] {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || (type === '' && body.trimStart().startsWith('{"resources"'))) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (e) {
      throw new HttpError(400, `bad JSON: ${(e as Error).message}`);
    }
    const resources = (parsed as { resources?: unknown } | null)?.resources;
    if (!Array.isArray(resources)) throw new HttpError(400, 'a JSON body must be {"resources":[{"source"?: string, "object": {...}}]}');
    return resources.map((item, i) => {
      const it = item as { source?: unknown; object?: unknown } | null;
      if (typeof it !== 'object' || it === null || it.object === undefined) throw new HttpError(400, `resources[${i}] must be {"source"?: string, "object": {...}}`);
      return { source: typeof it.source === 'string' ? it.source : `resources[${i}]`, object: it.object };
    });
  }
  if (!validate) return parseDocs(body);
  try {
    return parseManifest(body, 'body', namespace).map((d) => ({ source: d.source, object: d.resource }));
  } catch (e) {
    if (!isValidationError(e)) throw e;
    throw new HttpError(400, 'invalid manifest; nothing was applied', {
      issues: e.issues.map((i) => ({ ...splitManifestPath(i.path), message: i.message })),
    });
  }
}

function parseDocs(body: string): BatchDocument[] {
  const out: BatchDocument[] = [];
  parseAllDocuments(body).forEach((doc, i) => {
    if (doc.errors.length > 0) throw new HttpError(400, `body#${i + 1}: YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) out.push({ source: `body#${i + 1}`, object: value });
  });
  return out;
}

/** parseManifest's issue paths read `file#doc (Kind name) field.path`; the API reports source and field apart. */
function splitManifestPath(path: string): { source: string; path: string } {
  const m = /^(\S+(?: \([^)]*\))?)(?: (.*))?$/.exec(path);
  return m ? { source: m[1]!, path: m[2] ?? '' } : { source: path, path: '' };
}
