// The match conditions of a VirtualService http route beyond uri, method, headers and port —
// queryParams, withoutHeaders, ignoreUriCase, sourceLabels, sourceNamespace — compiled once per config
// update into plain data and predicates, and the check the route stage runs per request. Envoy's
// semantics, as Istio translates them (route.go TranslateRouteMatch, sourceMatchHTTP):
// - queryParams: the first value of the parameter in the raw query (not percent-decoded; `?key` has the
//   value ""), matched by a StringMatch (a regex matches the whole value), or `{}`: present;
// - withoutHeaders: an inverted header match, a missing header read as "" (Envoy's
//   treat_missing_header_as_empty), so `end-user: {exact: jason}` holds for a request without end-user;
//   `{}` or `regex: "*"` means "the header is absent";
// - ignoreUriCase: exact and prefix uri matches compare ASCII letters without case (Envoy's
//   case_sensitive: false; a regex is not affected);
// - sourceLabels and sourceNamespace select the calling workload: Istio keeps a match block only in the
//   sidecars whose workload has these labels (and namespace). The SDK is that workload, so the check is
//   against its own labels and namespace.
import type { HTTPMatchRequest, StringMatch } from '@weft/api';
import type { HeaderMatcher } from './compiled.js';
import { compileStringMatch, type ValueMatcher } from './string-match.js';

export interface QueryParamMatcher {
  readonly name: string;
  /** Undefined: presence test. */
  readonly test: ValueMatcher | undefined;
}

/** The workload a block selects; every label listed must be the workload's. */
export interface SourceSelector {
  readonly labels: ReadonlyArray<readonly [string, string]>;
  readonly namespace: string | undefined;
}

export interface MatchConditions {
  readonly queryParams: readonly QueryParamMatcher[];
  /** `test` undefined: the header must be absent; otherwise the test must fail on its value ("" when absent). */
  readonly withoutHeaders: readonly HeaderMatcher[];
  readonly source: SourceSelector | undefined;
}

/** The calling workload: what sourceLabels and sourceNamespace are compared with. */
export interface SourceWorkload {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** ASCII lower case, as Envoy's case-insensitive path matching folds only A-Z. */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** True when `value` starts with `lowerPrefix` (already ASCII lower case), ignoring the case of A-Z. */
function startsWithIgnoringCase(value: string, lowerPrefix: string): boolean {
  if (value.length < lowerPrefix.length) return false;
  for (let i = 0; i < lowerPrefix.length; i++) {
    let c = value.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lowerPrefix.charCodeAt(i)) return false;
  }
  return true;
}

/** The uri matcher of a block: exact and prefix without ASCII case when ignoreUriCase is set. */
export function compileUriMatch(uri: StringMatch, ignoreCase: boolean): ValueMatcher {
  if (ignoreCase && 'exact' in uri) {
    const exact = asciiLower(uri.exact);
    return (v) => v.length === exact.length && startsWithIgnoringCase(v, exact);
  }
  if (ignoreCase && 'prefix' in uri) {
    const prefix = asciiLower(uri.prefix);
    return (v) => startsWithIgnoringCase(v, prefix);
  }
  return compileStringMatch(uri);
}

/**
 * How much of the path `rewrite.uri` replaces when this block matched: the prefix's length, the exact
 * path's, 1 without a uri match (Istio gives Envoy the prefix `/`), -1 for a regex (the whole path).
 */
export function rewriteLengthOf(m: HTTPMatchRequest): number {
  const uri = m.uri;
  if (uri === undefined) return 1;
  if ('prefix' in uri) return uri.prefix.length;
  if ('exact' in uri) return uri.exact.length;
  return -1;
}

/** Istio's present match: `{}` (or null), or `regex: "*"` (not a regex: Istio reads it as "present"). */
function isPresence(m: StringMatch | Record<string, never> | null | undefined): boolean {
  return m === null || m === undefined || Object.keys(m).length === 0 || ('regex' in m && m.regex === '*');
}

/** The block's queryParams, withoutHeaders and source selection; undefined when it has none of them. */
export function compileMatchConditions(m: HTTPMatchRequest): MatchConditions | undefined {
  const query = Object.entries(m.queryParams ?? {});
  const without = Object.entries(m.withoutHeaders ?? {});
  const labels = Object.entries(m.sourceLabels ?? {});
  if (query.length === 0 && without.length === 0 && labels.length === 0 && m.sourceNamespace === undefined) return undefined;
  return Object.freeze({
    queryParams: Object.freeze(query.map(([name, match]) => Object.freeze({ name, test: isPresence(match) ? undefined : compileStringMatch(match as StringMatch) }))),
    withoutHeaders: Object.freeze(without.map(([name, match]) => Object.freeze({ name, test: isPresence(match) ? undefined : compileStringMatch(match as StringMatch) }))),
    source: labels.length === 0 && m.sourceNamespace === undefined ? undefined : Object.freeze({ labels: Object.freeze(labels), namespace: m.sourceNamespace }),
  });
}

/** The first value of query parameter `name` in `path` (raw, as Envoy's parseQueryString reads it), or undefined. */
export function firstQueryValue(path: string, name: string): string | undefined {
  let start = path.indexOf('?');
  if (start < 0) return undefined;
  start++;
  while (start <= path.length) {
    let end = path.indexOf('&', start);
    if (end < 0) end = path.length;
    const eq = path.indexOf('=', start);
    const keyEnd = eq >= 0 && eq < end ? eq : end;
    if (keyEnd - start === name.length && path.startsWith(name, start)) return keyEnd === end ? '' : path.slice(keyEnd + 1, end);
    start = end + 1;
  }
  return undefined;
}

type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A header's value, several joined with `,` (as Envoy's getAllOfHeaderAsString); own properties only. */
function headerValue(headers: Headers, name: string): string | undefined {
  const v = Object.hasOwn(headers, name) ? headers[name] : undefined;
  return v === undefined ? undefined : typeof v === 'string' ? v : v.join(',');
}

/** True when the workload is one the selector names. */
export function sourceSelected(s: SourceSelector, workload: SourceWorkload): boolean {
  if (s.namespace !== undefined && s.namespace !== workload.namespace) return false;
  for (let i = 0; i < s.labels.length; i++) {
    const [k, v] = s.labels[i]!;
    if (!Object.hasOwn(workload.labels, k) || workload.labels[k] !== v) return false;
  }
  return true;
}

/** True when a request (its headers, its path with query) from `workload` meets the block's conditions. */
export function conditionsHold(c: MatchConditions, headers: Headers, path: string, workload: SourceWorkload): boolean {
  if (c.source !== undefined && !sourceSelected(c.source, workload)) return false;
  const without = c.withoutHeaders;
  for (let i = 0; i < without.length; i++) {
    const h = without[i]!;
    const value = headerValue(headers, h.name);
    if (h.test === undefined ? value !== undefined : h.test(value ?? '')) return false;
  }
  const query = c.queryParams;
  for (let i = 0; i < query.length; i++) {
    const q = query[i]!;
    const value = firstQueryValue(path, q.name);
    if (value === undefined || (q.test !== undefined && !q.test(value))) return false;
  }
  return true;
}
