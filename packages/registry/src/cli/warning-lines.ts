// The warnings weftd returns with a write (`warnings` of /v1/apply and /v1/delete), printed on stderr as
// kubectl prints a server's warnings: `Warning: ...`, one line each, the exit code unchanged. Each
// part is escaped: the text comes from weftd and names what users wrote.
import { escapeText } from './terminal-text.js';

export interface ApiWarning {
  source?: unknown;
  kind?: unknown;
  namespace?: unknown;
  name?: unknown;
  path?: unknown;
  message?: unknown;
  code?: unknown;
}

/**
 * `Warning: [IST0101] vs.yaml#1 (VirtualService bookinfo/reviews) spec.http[0].route[0].destination.subset: Referenced ...`:
 * Istio's code first as istioctl analyze puts it, then where (the document, if the batch held it, and the resource).
 */
export function warningLine(w: ApiWarning): string {
  const text = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : escapeText(String(v)));
  const code = text(w.code);
  const resource = text(w.kind) !== undefined ? `(${text(w.kind)} ${[text(w.namespace), text(w.name)].filter(Boolean).join('/')})` : undefined;
  const where = [code !== undefined ? `[${code}]` : undefined, text(w.source), resource, text(w.path)].filter(Boolean).join(' ');
  return `Warning: ${where}${where ? ': ' : ''}${text(w.message) ?? 'no message'}`;
}

/** The warnings of an answer, tolerating an older weftd that sends none. */
export function warningsOf(answer: { warnings?: unknown }): ApiWarning[] {
  return Array.isArray(answer.warnings) ? answer.warnings.filter((w): w is ApiWarning => typeof w === 'object' && w !== null) : [];
}
