// Caller headers → the pipeline's lower-case header record (route matches read it by lower-case
// name), with `host` set to the authority as the caller wrote it unless the caller set one.
import { invalidArgument } from '../errors.js';
import type { OutboundHeaders } from './pipeline.js';

export type HeaderValue = string | number | readonly string[] | undefined | null;
export type HeadersInput =
  | Record<string, HeaderValue>
  | Iterable<readonly [string, string]>
  | ReadonlyArray<readonly string[]>
  | { forEach(cb: (value: string, name: string) => void): void }
  | null
  | undefined;

function put(out: OutboundHeaders, name: string, value: HeaderValue): void {
  if (value === undefined || value === null) return;
  const key = name.toLowerCase();
  const v = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : [...value];
  const prev = out[key];
  if (prev === undefined) out[key] = v;
  else out[key] = ([] as string[]).concat(prev, v);
}

export function normalizeHeaders(input: HeadersInput, authority: string): OutboundHeaders {
  // No prototype: a header named `__proto__` or `constructor` is a header like any other, never the
  // record's prototype or an inherited value appended to.
  const out = Object.create(null) as OutboundHeaders;
  if (input != null) {
    if (typeof (input as { forEach?: unknown }).forEach === 'function' && !Array.isArray(input)) {
      // WHATWG Headers (already lower-case; set-cookie aside, values are combined)
      (input as { forEach(cb: (value: string, name: string) => void): void }).forEach((value, name) => put(out, name, value));
    } else if (Symbol.iterator in (input as object)) {
      for (const pair of input as Iterable<readonly string[]>) {
        if (!Array.isArray(pair) || pair.length !== 2) throw invalidArgument('headers given as a list must be [name, value] pairs');
        put(out, pair[0]!, pair[1]!);
      }
    } else {
      const record = input as Record<string, HeaderValue>;
      for (const name of Object.keys(record)) put(out, name, record[name]);
    }
  }
  if (out.host === undefined) out.host = authority;
  return out;
}
