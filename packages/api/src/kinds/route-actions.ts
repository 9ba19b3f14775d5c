// What a VirtualService http route does besides choosing a destination (headers, rewrite, redirect,
// directResponse, and a destination's own headers), and the match conditions beyond uri, method,
// headers and port (queryParams, withoutHeaders, ignoreUriCase, sourceLabels, sourceNamespace): their
// types, their schema, and Istio's checks of what they mean (pilot's validateHTTPRoute,
// validateHTTPRouteConflict, validateAuthorityRewrite, validateHTTPRedirect, validateHTTPRewrite,
// validateHTTPDirectResponse, ValidateHTTPHeaderValue). Kept out of virtual-service.ts so that it only
// hooks these in.
//
// Where Istio accepts a setting that Envoy then ignores or cannot use, Weft refuses it with its path
// (a field is never silently ignored): a redirect code Envoy does not send (Istio logs and drops the
// route), an Envoy `%VARIABLE%` substitution in a header value (Weft has none of Envoy's variables),
// and the route fields a redirect or a direct response never uses (timeout, retries, mirrors, request
// headers).
import { quote, type Issue } from '../errors.js';
import { compileIstioRegex } from '../regex.js';
import { dnsLabel, headerNameProblem, join, labelMap, port, unprintableProblem, type Schema, type StringRule } from '../schema.js';
import type { StringMatch } from './virtual-service.js';

/** Istio's HeaderOperations: `set` replaces, `add` appends a value, `remove` deletes. */
export interface HeaderOperations {
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}

/** Istio's Headers: operations on the request sent upstream and on the response the caller sees. */
export interface Headers {
  request?: HeaderOperations;
  response?: HeaderOperations;
}

export interface RegexRewrite {
  /** RE2 pattern searched in the path (not anchored); every match is replaced. */
  match: string;
  /** The replacement; `\1`…`\9` name the pattern's groups, `\0` the whole match. */
  rewrite: string;
}

export interface HTTPRewrite {
  uri?: string;
  authority?: string;
  uriRegexRewrite?: RegexRewrite;
}

export type RedirectPortSelection = 'FROM_PROTOCOL_DEFAULT' | 'FROM_REQUEST_PORT';

export interface HTTPRedirect {
  uri?: string;
  authority?: string;
  port?: number;
  derivePort?: RedirectPortSelection;
  scheme?: string;
  /** Default 301. */
  redirectCode?: number;
}

/** `string` or `bytes` (base64, as protobuf's JSON writes bytes). */
export interface HTTPBody {
  string?: string;
  bytes?: string;
}

export interface HTTPDirectResponse {
  status: number;
  body?: HTTPBody;
}

/** The route fields this file defines, as they appear on an HTTPRoute. */
export interface HTTPRouteActions {
  headers?: Headers;
  rewrite?: HTTPRewrite;
  redirect?: HTTPRedirect;
  directResponse?: HTTPDirectResponse;
}

/** The HTTPMatchRequest fields this file defines. */
export interface HTTPMatchConditions {
  /** Header name (lower case) → match that must NOT hold; `{}` (or `regex: "*"`) means "the header is absent". */
  withoutHeaders?: Record<string, StringMatch | Record<string, never>>;
  /** Query parameter name → match of its first value; `{}` tests presence. */
  queryParams?: Record<string, StringMatch | Record<string, never>>;
  /** exact and prefix `uri` matches ignore ASCII case. */
  ignoreUriCase?: boolean;
  /** The calling workload's labels must include these. */
  sourceLabels?: Record<string, string>;
  /** The calling workload's namespace must be this one. */
  sourceNamespace?: string;
}

/** Envoy sends only these redirect codes; Istio drops a route with any other (with a log line). */
export const REDIRECT_CODES: readonly number[] = [301, 302, 303, 307, 308];

/** Istio's limit on a direct response body (MaxDirectResponseBodySizeBytes, and its validator's). */
export const MAX_DIRECT_RESPONSE_BYTES = 1024 * 1024;

/** An HTTP token (RFC 9110): what a header name may be made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const isAuthorityHeader = (name: string): boolean => name.toLowerCase() === 'host' || name.toLowerCase() === ':authority';

/** A header name in a set/add of the request: `host` and `:authority` are allowed (they rewrite the authority). */
const requestHeaderName: StringRule = (name) => {
  if (name === '') return 'a header name must not be empty';
  if (isAuthorityHeader(name)) return undefined;
  if (name.startsWith(':')) return `${quote(name)}: a header starting with ':' cannot be changed (Envoy's pseudo-headers); to change the authority use host or rewrite.authority`;
  return TOKEN.test(name) ? undefined : `${quote(name)} is not a valid header name (letters, digits and !#$%&'*+-.^_\`|~)`;
};

/** A header name removed from the request, or changed in the response: never host or a pseudo-header. */
const plainHeaderName: StringRule = (name) => {
  if (name === '') return 'a header name must not be empty';
  if (name.toLowerCase() === 'host') return `${quote(name)}: the Host header cannot be removed here, nor set in a response; to change the authority use rewrite.authority`;
  if (name.startsWith(':')) return `${quote(name)}: a header starting with ':' cannot be changed (Envoy's pseudo-headers)`;
  return TOKEN.test(name) ? undefined : `${quote(name)} is not a valid header name (letters, digits and !#$%&'*+-.^_\`|~)`;
};

/**
 * A header value as Envoy reads it: literal text where `%%` is a `%`. An Envoy `%VARIABLE%` would be
 * replaced by Envoy and not by Weft, which has none of its variables, so it is refused.
 */
export const headerValueRule: StringRule = (value) => {
  const bad = unprintableProblem(value, true);
  if (bad) return bad;
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== '%') continue;
    if (value[i + 1] === '%') {
      i++;
      continue;
    }
    const end = value.indexOf('%', i + 1);
    return end > i + 1
      ? `${quote(value)}: Envoy's substitution ${quote(value.slice(i, end + 1))} is not supported by Weft (it has none of Envoy's %VARIABLES%); write %% for a literal %`
      : `${quote(value)}: a lone % is an error in Envoy's header values; write %% for a literal %`;
  }
  return undefined;
};

const headerOps = (name: StringRule, setAddName: StringRule): Schema => ({
  t: 'object',
  fields: {
    set: { t: 'map', key: setAddName, of: { t: 'string', anyText: true, rule: headerValueRule } },
    add: { t: 'map', key: setAddName, of: { t: 'string', anyText: true, rule: headerValueRule } },
    remove: { t: 'array', of: { t: 'string', rule: name } },
  },
});

/** Istio's Headers, at route level and per destination. */
export const HEADERS_SCHEMA: Schema = {
  t: 'object',
  fields: { request: headerOps(plainHeaderName, requestHeaderName), response: headerOps(plainHeaderName, plainHeaderName) },
};

/** A regex that compiles (the match of uriRegexRewrite is searched, not anchored). */
const searchRegexRule: StringRule = (re) => {
  if (re === '') return 'must not be empty';
  try {
    compileIstioRegex(re);
  } catch (e) {
    return `invalid regular expression ${quote(re)}: ${(e as Error).message}`;
  }
  return undefined;
};

/** A path as Envoy writes it: printable, no spaces (the caller sends it as is). */
const pathRule: StringRule = (p) => (/\s/.test(p) ? `${quote(p)} contains white space; percent-encode it (%20)` : undefined);

/** An authority (host[:port]); white space and `/` would make an invalid Host header or URL. */
const authorityRule: StringRule = (a) => (a === '' ? 'must not be empty' : /[\s/?#@]/.test(a) ? `${quote(a)} is not an authority (host or host:port)` : undefined);

const REWRITE: Schema = {
  t: 'object',
  fields: {
    uri: { t: 'string', rule: pathRule },
    authority: { t: 'string', rule: authorityRule },
    uriRegexRewrite: { t: 'object', fields: { match: { t: 'string', rule: searchRegexRule }, rewrite: { t: 'string', rule: pathRule } }, required: ['match', 'rewrite'] },
  },
};

const REDIRECT: Schema = {
  t: 'object',
  fields: {
    uri: { t: 'string', rule: pathRule },
    authority: { t: 'string', rule: authorityRule },
    port,
    derivePort: { t: 'enum', values: ['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'] },
    scheme: { t: 'enum', values: ['http', 'https'] },
    redirectCode: { t: 'int' },
  },
};

const DIRECT_RESPONSE: Schema = {
  t: 'object',
  fields: { status: { t: 'int' }, body: { t: 'object', fields: { string: { t: 'string', anyText: true }, bytes: { t: 'string' } } } },
  required: ['status'],
};

/** Schemas of the route fields, merged into the HTTPRoute schema by virtual-service.ts. */
export const ROUTE_ACTION_FIELDS: Readonly<Record<string, Schema>> = {
  headers: HEADERS_SCHEMA,
  rewrite: REWRITE,
  redirect: REDIRECT,
  directResponse: DIRECT_RESPONSE,
};

/** A withoutHeaders value: a StringMatch, `{}`, or Istio's `regex: "*"` (the header is absent). */
const withoutHeaderMatch: Schema = {
  t: 'object',
  fields: {
    exact: { t: 'string', anyText: true, rule: (s) => unprintableProblem(s, true) },
    prefix: { t: 'string', anyText: true, rule: (s) => unprintableProblem(s, true) },
    regex: { t: 'string', rule: (re) => (re === '*' ? undefined : searchRegexRule(re)) },
  },
};

const queryParamName: StringRule = (name) => (name === '' ? 'a query parameter name must not be empty' : unprintableProblem(name));

/** Schemas of the match fields, merged into the HTTPMatchRequest schema by virtual-service.ts. */
export const MATCH_CONDITION_FIELDS: Readonly<Record<string, Schema>> = {
  withoutHeaders: { t: 'map', key: headerNameProblem, of: withoutHeaderMatch },
  queryParams: { t: 'map', key: queryParamName, of: { t: 'headerMatch' } },
  ignoreUriCase: { t: 'bool' },
  sourceLabels: labelMap,
  sourceNamespace: dnsLabel('namespace'),
};

/** True when a base64 text (standard or URL alphabet, padding optional, as protobuf's JSON reads bytes) is well formed. */
function isBase64(s: string): boolean {
  return /^[A-Za-z0-9+/_-]*={0,2}$/.test(s) && s.replace(/=+$/, '').length % 4 !== 1;
}

/** The route's authority rewrites: rewrite.authority and a host (or :authority) in headers.request set/add. */
function authoritySettings(route: HTTPRouteActions): string[] {
  const out: string[] = [];
  if (route.rewrite?.authority) out.push('rewrite.authority');
  for (const op of ['set', 'add'] as const) {
    for (const name of Object.keys(route.headers?.request?.[op] ?? {})) if (isAuthorityHeader(name)) out.push(join(`headers.request.${op}`, name));
  }
  return out;
}

/** What the route fields of the other files (route-policies.ts) look like here: only presence matters. */
interface OtherRouteFields {
  route?: readonly { headers?: Headers }[];
  fault?: unknown;
  timeout?: unknown;
  retries?: unknown;
  mirror?: unknown;
  mirrors?: unknown;
}

/** Istio's checks of headers, rewrite, redirect and directResponse of one route; `path` is the route's (`spec.http[0]`). */
export function checkRouteActions(route: HTTPRouteActions & OtherRouteFields, path: string, issues: Issue[]): void {
  const { redirect, directResponse: direct, rewrite } = route;
  const hasRoute = route.route !== undefined && route.route.length > 0;
  const local = redirect !== undefined ? 'redirect' : direct !== undefined ? 'directResponse' : undefined;
  if (redirect !== undefined && direct !== undefined) issues.push({ path: `${path}.directResponse`, message: 'cannot be combined with redirect: a route answers one way; keep one of them' });
  if (local !== undefined) {
    const why = local === 'redirect' ? 'a redirected request is answered by the calling workload and never sent' : 'a direct response is answered by the calling workload and nothing is sent';
    if (hasRoute) issues.push({ path: `${path}.route`, message: `cannot be combined with ${local}: ${why}; remove one of them` });
    for (const field of ['fault', 'rewrite', 'timeout', 'retries', 'mirror', 'mirrors'] as const) {
      if (route[field] !== undefined) issues.push({ path: `${path}.${field}`, message: `has no effect with ${local} (${why}); remove it` });
    }
    if (route.headers?.request !== undefined) {
      issues.push({ path: `${path}.headers.request`, message: `has no effect with ${local} (${why}); only headers.response applies` });
    }
  } else if (route.route === undefined) {
    issues.push({ path: `${path}.route`, message: 'is required' });
  }

  if (redirect !== undefined) {
    if (!redirect.uri && !redirect.authority && redirect.port === undefined && redirect.derivePort === undefined && !redirect.scheme) {
      issues.push({ path: `${path}.redirect`, message: 'must set uri, authority, scheme, port or derivePort: where to send the caller' });
    }
    if (redirect.port !== undefined && redirect.derivePort !== undefined) {
      issues.push({ path: `${path}.redirect`, message: 'set one of port and derivePort, not both' });
    }
    if (redirect.redirectCode !== undefined && !REDIRECT_CODES.includes(redirect.redirectCode)) {
      issues.push({ path: `${path}.redirect.redirectCode`, message: `${redirect.redirectCode} is not a redirect code Envoy sends; use one of ${REDIRECT_CODES.join(', ')} (default 301)` });
    }
  }
  if (direct !== undefined) {
    if (typeof direct.status === 'number' && (direct.status < 200 || direct.status > 599)) {
      issues.push({ path: `${path}.directResponse.status`, message: `HTTP status ${direct.status} is not in range 200-599` });
    }
    const body = direct.body;
    if (body !== undefined) {
      if (body.string !== undefined && body.bytes !== undefined) issues.push({ path: `${path}.directResponse.body`, message: 'set one of string and bytes, not both' });
      if (typeof body.bytes === 'string' && !isBase64(body.bytes)) issues.push({ path: `${path}.directResponse.body.bytes`, message: 'must be base64 (the bytes as protobuf JSON writes them)' });
      const size = typeof body.string === 'string' ? Buffer.byteLength(body.string) : typeof body.bytes === 'string' ? Buffer.from(body.bytes, 'base64').length : 0;
      if (size > MAX_DIRECT_RESPONSE_BYTES) issues.push({ path: `${path}.directResponse.body`, message: `is ${size} bytes; Istio allows at most 1MB (${MAX_DIRECT_RESPONSE_BYTES} bytes)` });
    }
  }
  if (rewrite !== undefined) {
    if (rewrite.uri && rewrite.uriRegexRewrite !== undefined) issues.push({ path: `${path}.rewrite`, message: 'set one of uri and uriRegexRewrite, not both' });
    if (!rewrite.uri && rewrite.uriRegexRewrite === undefined && !rewrite.authority) {
      issues.push({ path: `${path}.rewrite`, message: 'must set uri, uriRegexRewrite or authority: what to rewrite' });
    }
    const rr = rewrite.uriRegexRewrite;
    if (rr !== undefined && typeof rr.rewrite === 'string') {
      const problem = substitutionProblem(rr.rewrite, typeof rr.match === 'string' ? rr.match : '');
      if (problem) issues.push({ path: `${path}.rewrite.uriRegexRewrite.rewrite`, message: problem });
      else if (rr.rewrite === '') issues.push({ path: `${path}.rewrite.uriRegexRewrite.rewrite`, message: 'must not be empty' });
    }
  }
  const authorities = authoritySettings(route);
  if (authorities.length > 1) {
    issues.push({ path: `${path}.${authorities[1]}`, message: `rewrites the authority a second time (also ${authorities[0]}); set it in one place` });
  }
  route.route?.forEach((d, i) => {
    const set = Object.keys(d.headers?.request?.set ?? {}).filter(isAuthorityHeader);
    const add = Object.keys(d.headers?.request?.add ?? {}).filter(isAuthorityHeader);
    if (set.length + add.length > 1) issues.push({ path: `${path}.route[${i}].headers.request`, message: 'sets the authority (host) more than once; set it in one place' });
  });
}

/** Groups in an RE2 pattern (as JavaScript reads it), or -1 when it does not compile. */
function groupCount(pattern: string): number {
  try {
    const re = compileIstioRegex(pattern);
    return new RegExp(`${re.source}|`, re.flags).exec('')!.length - 1;
  } catch {
    return -1;
  }
}

/** RE2's CheckRewriteString: `\0`…`\9` name groups the pattern has, `\\` is a backslash, nothing else follows a backslash. */
export function substitutionProblem(rewrite: string, pattern: string): string | undefined {
  const groups = groupCount(pattern);
  for (let i = 0; i < rewrite.length; i++) {
    if (rewrite[i] !== '\\') continue;
    const next = rewrite[i + 1];
    if (next === '\\') {
      i++;
      continue;
    }
    if (next === undefined || !/[0-9]/.test(next)) {
      return `${quote(rewrite)}: a backslash must be followed by a digit (a group, \\1) or another backslash (\\\\)`;
    }
    if (groups >= 0 && Number(next) > groups) return `${quote(rewrite)} names group \\${next}, but the match has ${groups} group${groups === 1 ? '' : 's'}`;
    i++;
  }
  return undefined;
}

/** Istio's checks of one match block's withoutHeaders; `path` is the block's (`spec.http[0].match[1]`). */
export function checkMatchConditions(m: HTTPMatchConditions, path: string, issues: Issue[]): void {
  for (const [name, match] of Object.entries(m.withoutHeaders ?? {})) {
    if (match !== null && typeof match === 'object' && Object.keys(match).length > 1) {
      issues.push({ path: join(`${path}.withoutHeaders`, name), message: `set exactly one of exact, prefix, regex; got ${Object.keys(match).map((k) => quote(k)).join(', ')}` });
    }
  }
}
