// The generic structure checker every kind's schema is written for: each field must be one Weft knows,
// a field Istio has but Weft does not support yet is named as such, and every error carries its field
// path, e.g. `spec.http[0].match[0].uri.regex`. What a kind's fields mean is checked in its own file
// under kinds/.
//
// Documents come from JSON.parse and YAML, which make every key an own property (`__proto__`
// included), so every lookup of a key from the input is an own-property lookup: a field named
// `constructor` or `__proto__` is the unknown field it is, never a member of Object.prototype.
import { findUnprintable, quote, type Issue } from './errors.js';
import { compileIstioRegex } from './regex.js';
import { hostProblem, isDnsLabel, labelKeyProblem, labelValueProblem, type HostField } from './hosts.js';

/** Why a string is not acceptable in its field, or undefined. */
export type StringRule = (s: string) => string | undefined;

export type Schema =
  /** `anyText`: any characters (annotation values); otherwise control characters are refused. */
  | { t: 'string'; nonEmpty?: boolean; rule?: StringRule; anyText?: boolean }
  | { t: 'int'; min?: number; max?: number }
  | { t: 'bool' }
  | { t: 'enum'; values: readonly string[]; unsupported?: readonly string[] }
  | { t: 'array'; of: Schema; nonEmpty?: boolean }
  /** `key` checks each key; `maxBytes` bounds the UTF-8 size of all keys and string values together. */
  | { t: 'map'; of: Schema; key?: StringRule; maxBytes?: number }
  | {
      t: 'object';
      fields: Record<string, Schema>;
      required?: readonly string[];
      unsupported?: readonly string[];
      /** Why an unsupported field is not supported yet, where there is more to say than "not yet". */
      unsupportedWhy?: Readonly<Record<string, string>>;
      ignored?: readonly string[];
    }
  | { t: 'stringMatch' }
  | { t: 'headerMatch' };

/** Kubernetes' bound on all annotations of one object together (TotalAnnotationSizeLimitB). */
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

export const str: Schema = { t: 'string' };
export const nonEmptyStr: Schema = { t: 'string', nonEmpty: true };
export const host = (field: HostField): Schema => ({ t: 'string', rule: (s) => hostProblem(s, field) });
export const dnsLabel = (what: string): Schema => ({
  t: 'string',
  nonEmpty: true,
  rule: (s) => (isDnsLabel(s) ? undefined : `${quote(s)} is not a valid ${what} (at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit)`),
});
export const port: Schema = { t: 'int', min: 1, max: 65535 };
export const labelMap: Schema = { t: 'map', key: labelKeyProblem, of: { t: 'string', rule: labelValueProblem } };
export const annotationMap: Schema = { t: 'map', key: labelKeyProblem, of: { t: 'string', anyText: true }, maxBytes: MAX_ANNOTATIONS_BYTES };

/** Istio's header names (`^[-_A-Za-z0-9]+$`), in lower case as HTTP/2 and Node deliver them. */
export function headerNameProblem(name: string): string | undefined {
  if (name !== name.toLowerCase()) return 'header names must be lower case';
  if (!/^[-_a-z0-9]+$/.test(name)) return `${quote(name)} is not a valid header name (letters, digits, '-' and '_')`;
  return undefined;
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `a ${typeof v}`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The own property `key` of `o`; undefined when `o` has none (inherited members do not count). */
export function own(o: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** `a.b` for plain keys; `a["app.kubernetes.io/name"]` for keys a dot path cannot show unambiguously. */
export function join(path: string, key: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(key)) return `${path}[${quote(key)}]`;
  return path ? `${path}.${key}` : key;
}

/** A message for text with a control character in it, or undefined. Tabs pass when `allowTab`. */
export function unprintableProblem(s: string, allowTab = false): string | undefined {
  const at = findUnprintable(allowTab ? s.replaceAll('\t', ' ') : s);
  if (at < 0) return undefined;
  return `contains the control character ${quote(s[at]!)} at position ${at}; only printable text is accepted here`;
}

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

function checkStringMatch(v: unknown, path: string, issues: Issue[], allowEmpty: boolean): void {
  if (!isPlainObject(v)) {
    issues.push({ path, message: `must be a map with one of exact, prefix, regex; got ${typeName(v)}` });
    return;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) {
    if (!allowEmpty) issues.push({ path, message: 'must set one of exact, prefix, regex' });
    return;
  }
  for (const k of keys) {
    const value = v[k];
    if (k !== 'exact' && k !== 'prefix' && k !== 'regex') {
      issues.push({ path: join(path, k), message: `unknown field (a StringMatch has exact, prefix or regex)` });
    } else if (typeof value !== 'string') {
      issues.push({ path: join(path, k), message: `must be a string, got ${typeName(value)}` });
    } else {
      // HTTP carries no control characters other than tab, so such a match could never match.
      const problem = unprintableProblem(value, true);
      if (problem) issues.push({ path: join(path, k), message: problem });
    }
  }
  if (keys.length > 1) issues.push({ path, message: `set exactly one of exact, prefix, regex; got ${keys.map((k) => quote(k)).join(', ')}` });
  const regex = own(v, 'regex');
  if (typeof regex === 'string') {
    try {
      compileIstioRegex(regex);
    } catch (e) {
      issues.push({ path: join(path, 'regex'), message: `invalid regular expression ${quote(regex)}: ${(e as Error).message}` });
    }
  }
}

/** Checks `v` against `schema`, adding an issue with its path for every problem found. */
export function check(v: unknown, schema: Schema, path: string, issues: Issue[]): void {
  switch (schema.t) {
    case 'string': {
      if (typeof v !== 'string') {
        issues.push({ path, message: `must be a string, got ${typeName(v)}` });
        return;
      }
      if (schema.nonEmpty && v.length === 0) {
        issues.push({ path, message: 'must not be empty' });
        return;
      }
      const problem = (schema.anyText ? undefined : unprintableProblem(v)) ?? schema.rule?.(v);
      if (problem) issues.push({ path, message: problem });
      return;
    }
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        issues.push({ path, message: `must be an integer, got ${typeof v === 'number' ? v : typeName(v)}` });
      } else if (schema.min !== undefined && v < schema.min) {
        issues.push({ path, message: `must be at least ${schema.min}, got ${v}` });
      } else if (schema.max !== undefined && v > schema.max) {
        issues.push({ path, message: `must be at most ${schema.max}, got ${v}` });
      }
      return;
    case 'bool':
      if (typeof v !== 'boolean') issues.push({ path, message: `must be true or false, got ${typeof v === 'string' ? quote(v) : typeName(v)}` });
      return;
    case 'enum':
      if (typeof v !== 'string') issues.push({ path, message: `must be one of ${schema.values.join(', ')}; got ${typeName(v)}` });
      else if (schema.unsupported?.includes(v)) issues.push({ path, message: `${v} is not supported by Weft yet (supported: ${schema.values.join(', ')})` });
      else if (!schema.values.includes(v)) issues.push({ path, message: `unknown value ${quote(v)}; must be one of ${schema.values.join(', ')}` });
      return;
    case 'array':
      if (!Array.isArray(v)) {
        issues.push({ path, message: `must be a list, got ${typeName(v)}` });
        return;
      }
      if (schema.nonEmpty && v.length === 0) issues.push({ path, message: 'must not be empty' });
      v.forEach((item, i) => check(item, schema.of, `${path}[${i}]`, issues));
      return;
    case 'map': {
      if (!isPlainObject(v)) {
        issues.push({ path, message: `must be a map, got ${typeName(v)}` });
        return;
      }
      let bytes = 0;
      for (const [k, item] of Object.entries(v)) {
        const keyProblem = k === '__proto__' ? 'the key __proto__ is not allowed (JavaScript reads it as the prototype of the map)' : schema.key?.(k);
        if (keyProblem) issues.push({ path: join(path, k), message: keyProblem });
        check(item, schema.of, join(path, k), issues);
        if (schema.maxBytes !== undefined) bytes += utf8Length(k) + (typeof item === 'string' ? utf8Length(item) : 0);
      }
      if (schema.maxBytes !== undefined && bytes > schema.maxBytes) {
        issues.push({ path, message: `keys and values take ${bytes} bytes together; at most ${schema.maxBytes} are allowed` });
      }
      return;
    }
    case 'stringMatch':
      checkStringMatch(v, path, issues, false);
      return;
    case 'headerMatch':
      checkStringMatch(v ?? {}, path, issues, true);
      return;
    case 'object': {
      if (!isPlainObject(v)) {
        issues.push({ path, message: `must be a map, got ${typeName(v)}` });
        return;
      }
      for (const [k, item] of Object.entries(v)) {
        const sub = Object.hasOwn(schema.fields, k) ? schema.fields[k] : undefined;
        if (sub) check(item, sub, join(path, k), issues);
        else if (schema.unsupported?.includes(k)) {
          const why = schema.unsupportedWhy && Object.hasOwn(schema.unsupportedWhy, k) ? `: ${schema.unsupportedWhy[k]}` : '';
          issues.push({ path: join(path, k), message: `this Istio field is not supported by Weft yet${why}` });
        } else if (!schema.ignored?.includes(k)) {
          issues.push({ path: join(path, k), message: `unknown field (known here: ${Object.keys(schema.fields).join(', ')})` });
        }
      }
      for (const r of schema.required ?? []) {
        const value = own(v, r);
        if (value === undefined || value === null) issues.push({ path: join(path, r), message: 'is required' });
      }
      return;
    }
  }
}
