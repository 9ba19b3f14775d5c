// Compiles a VirtualService http route's headers, rewrite, redirect and directResponse, and each
// destination's headers, into the RouteActions the local-reply and route-headers stages run
// (route-actions.ts), the way Istio's pilot translates them for Envoy (route.go: TranslateHeadersOperations,
// processDestination, processWeightedDestination, ApplyRedirect, ApplyDirectResponse):
// - `set` and `add` become additions sorted by name (set before add), names in lower case, values with
//   Envoy's `%%` read as `%`; an empty value is dropped (Envoy adds no empty header);
// - `host` or `:authority` in a request set/add is not a header operation but an authority rewrite
//   (`set` wins over `add`); rewrite.authority wins over the route's headers, which win over a
//   destination's;
// - one destination: the route's and the destination's operations in one pass; several: the
//   destination's pass, then the route's;
// - redirect: code 301 by default; `port` or derivePort FROM_REQUEST_PORT writes a port (none for 80 with
//   http or 443 with https), FROM_PROTOCOL_DEFAULT writes none;
// - directResponse: the body as bytes (`string` in UTF-8, `bytes` from base64).
// The input was validated by @weft/api, so nothing here throws on a field's shape.
import type { HTTPRoute } from '@weft/api';
import type { HeaderOperation, HeaderPass, LocalAnswer, PathRewrite, RouteActions } from './route-actions.js';

type Headers = NonNullable<HTTPRoute['headers']>;
type Operations = NonNullable<Headers['request']>;

const isAuthority = (name: string): boolean => {
  const n = name.toLowerCase();
  return n === 'host' || n === ':authority';
};

/** Envoy's header value format without variables (refused by validation): `%%` is a `%`. */
const literal = (value: string): string => value.replaceAll('%%', '%');

interface CompiledOperations {
  pass: HeaderPass;
  authority: string | undefined;
}

function compileOperations(ops: Operations | undefined): CompiledOperations {
  const additions = (map: Record<string, string> | undefined, append: boolean): HeaderOperation[] =>
    Object.keys(map ?? {})
      .sort()
      .filter((name) => !name.startsWith(':') && !isAuthority(name) && literal(map![name]!) !== '')
      .map((name) => Object.freeze({ name: name.toLowerCase(), value: literal(map![name]!), append }));
  const authorityIn = (map: Record<string, string> | undefined): string | undefined => {
    const key = Object.keys(map ?? {}).find(isAuthority);
    return key === undefined ? undefined : literal(map![key]!) || undefined;
  };
  return {
    pass: Object.freeze({
      remove: Object.freeze((ops?.remove ?? []).map((n) => n.toLowerCase()).filter((n) => !n.startsWith(':') && n !== 'host')),
      add: Object.freeze([...additions(ops?.set, false), ...additions(ops?.add, true)]),
    }),
    authority: authorityIn(ops?.set) ?? authorityIn(ops?.add),
  };
}

const isEmpty = (p: HeaderPass): boolean => p.remove.length === 0 && p.add.length === 0;

/** The passes of a request or response: one merged pass for a lone destination, the destination's then the route's otherwise. */
function passes(route: HeaderPass, destination: HeaderPass | undefined, lone: boolean): readonly HeaderPass[] {
  if (destination === undefined || isEmpty(destination)) return isEmpty(route) ? [] : [route];
  if (isEmpty(route)) return [destination];
  if (lone) return [Object.freeze({ remove: [...route.remove, ...destination.remove], add: [...route.add, ...destination.add] })];
  return [destination, route];
}

/** RE2's `(?i)` prefix as JavaScript's flag; the pattern is searched (not anchored), every match replaced. */
function searchPattern(re: string): RegExp {
  return re.startsWith('(?i)') ? new RegExp(re.slice(4), 'gi') : new RegExp(re, 'g');
}

/** RE2's rewrite string as parts: literal text, and group numbers for `\0`…`\9` (`\\` is a backslash). */
export function substitutionParts(rewrite: string): (string | number)[] {
  const parts: (string | number)[] = [];
  let text = '';
  for (let i = 0; i < rewrite.length; i++) {
    const c = rewrite[i]!;
    if (c === '\\' && i + 1 < rewrite.length) {
      const next = rewrite[++i]!;
      if (next >= '0' && next <= '9') {
        if (text !== '') parts.push(text);
        parts.push(Number(next));
        text = '';
      } else text += next;
    } else text += c;
  }
  if (text !== '') parts.push(text);
  return parts;
}

function compileRewrite(route: HTTPRoute): PathRewrite | undefined {
  const r = route.rewrite;
  if (r?.uriRegexRewrite !== undefined) {
    return Object.freeze({ kind: 'regex', pattern: searchPattern(r.uriRegexRewrite.match), parts: Object.freeze(substitutionParts(r.uriRegexRewrite.rewrite)) });
  }
  if (r?.uri) return Object.freeze({ kind: 'prefix', value: r.uri });
  return undefined;
}

function compileAnswer(route: HTTPRoute): LocalAnswer | undefined {
  const d = route.directResponse;
  if (d !== undefined) {
    const body = d.body?.string !== undefined ? Buffer.from(d.body.string, 'utf8') : d.body?.bytes !== undefined ? Buffer.from(d.body.bytes, 'base64') : Buffer.alloc(0);
    return Object.freeze({ kind: 'direct', status: d.status, body });
  }
  const r = route.redirect;
  if (r === undefined) return undefined;
  return Object.freeze({
    kind: 'redirect',
    status: r.redirectCode ?? 301,
    scheme: r.scheme === 'http' || r.scheme === 'https' ? r.scheme : undefined,
    authority: r.authority || undefined,
    port: r.port !== undefined ? r.port : r.derivePort === 'FROM_REQUEST_PORT' ? 'request' : undefined,
    path: r.uri || undefined,
  });
}

/**
 * The actions of each destination of the route, by index (a redirect or direct response has one, with
 * its answer); undefined where the route does nothing but route.
 */
export function compileRouteActions(route: HTTPRoute): (RouteActions | undefined)[] {
  const request = compileOperations(route.headers?.request);
  const response = compileOperations(route.headers?.response);
  const rewrite = compileRewrite(route);
  const answer = compileAnswer(route);
  if (answer !== undefined) {
    return [Object.freeze({ requestHeaders: [], responseHeaders: passes(response.pass, undefined, true), authority: undefined, rewrite: undefined, answer })];
  }
  const dests = route.route ?? [];
  const lone = dests.length === 1;
  const routeAuthority = route.rewrite?.authority || request.authority;
  return dests.map((d) => {
    const dRequest = d.headers?.request ? compileOperations(d.headers.request) : undefined;
    const dResponse = d.headers?.response ? compileOperations(d.headers.response) : undefined;
    const actions: RouteActions = {
      requestHeaders: Object.freeze(passes(request.pass, dRequest?.pass, lone)),
      responseHeaders: Object.freeze(passes(response.pass, dResponse?.pass, lone)),
      authority: routeAuthority ?? dRequest?.authority,
      rewrite,
      answer: undefined,
    };
    const none = actions.requestHeaders.length === 0 && actions.responseHeaders.length === 0 && actions.authority === undefined && rewrite === undefined;
    return none ? undefined : Object.freeze(actions);
  });
}
