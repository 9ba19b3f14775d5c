import { expect } from 'chai';
import { validationIssues } from '../validation-issues.js';
import { substitutionProblem } from './route-actions.js';

const dest = [{ destination: { host: 'ratings' } }];
function issuesOf(http: Record<string, unknown>): string[] {
  return validationIssues({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'r', namespace: 'shop' }, spec: { hosts: ['ratings'], http: [http] } });
}
const withRoute = (extra: Record<string, unknown>) => issuesOf({ route: dest, ...extra });

describe('VirtualService headers, rewrite, redirect, directResponse (Istio semantics)', () => {
  it("accepts the examples of Istio's reference", () => {
    expect(withRoute({ headers: { request: { set: { 'x-a': '1' }, add: { 'x-b': '2' }, remove: ['x-c'] }, response: { set: { 'x-d': 'v' }, add: { 'x-e': 'w' }, remove: ['server'] } } })).to.deep.equal([]);
    expect(issuesOf({ route: [{ destination: { host: 'ratings' }, headers: { request: { set: { host: 'other' } }, response: { remove: ['foo'] } } }] })).to.deep.equal([]);
    expect(withRoute({ rewrite: { uri: '/v1/bookRatings' } })).to.deep.equal([]);
    expect(withRoute({ rewrite: { authority: 'ratings.example', uri: '/' } })).to.deep.equal([]);
    expect(withRoute({ rewrite: { uriRegexRewrite: { match: '^/service/([^/]+)(/.*)$', rewrite: '/customprefix\\2/\\1' } } })).to.deep.equal([]);
    expect(issuesOf({ redirect: { uri: '/v1/bookRatings', authority: 'newratings.default.svc.cluster.local' } })).to.deep.equal([]);
    expect(issuesOf({ redirect: { uri: '/x', derivePort: 'FROM_REQUEST_PORT', redirectCode: 308 } })).to.deep.equal([]);
    expect(issuesOf({ redirect: { scheme: 'https', port: 8443 } })).to.deep.equal([]);
    expect(issuesOf({ directResponse: { status: 503, body: { string: 'unknown path' } } })).to.deep.equal([]);
    expect(issuesOf({ directResponse: { status: 200, body: { bytes: Buffer.from('hi\n').toString('base64') } }, headers: { response: { set: { 'content-type': 'application/json' } } } })).to.deep.equal([]);
    expect(withRoute({ headers: { request: { set: { 'x-pct': '100%%' } } } })).to.deep.equal([]);
  });

  it('route is required unless the route redirects or answers directly, and those three exclude each other', () => {
    expect(issuesOf({ name: 'x' })).to.deep.equal(['spec.http[0].route: is required']);
    expect(issuesOf({ route: dest, redirect: { uri: '/a' } })).to.deep.equal(['spec.http[0].route: cannot be combined with redirect: a redirected request is answered by the calling workload and never sent; remove one of them']);
    expect(issuesOf({ route: dest, directResponse: { status: 404 } })[0]).to.match(/^spec\.http\[0\]\.route: cannot be combined with directResponse/);
    expect(issuesOf({ redirect: { uri: '/a' }, directResponse: { status: 404 } })).to.include('spec.http[0].directResponse: cannot be combined with redirect: a route answers one way; keep one of them');
    expect(issuesOf({ redirect: { uri: '/a' }, rewrite: { uri: '/b' } })[0]).to.match(/^spec\.http\[0\]\.rewrite: has no effect with redirect/);
    expect(issuesOf({ directResponse: { status: 404 }, fault: { abort: { httpStatus: 500, percentage: { value: 1 } } } })[0]).to.match(/^spec\.http\[0\]\.fault: has no effect with directResponse/);
    expect(issuesOf({ redirect: { uri: '/a' }, timeout: '1s', retries: { attempts: 1 } })).to.have.length(2);
    expect(issuesOf({ directResponse: { status: 404 }, headers: { request: { set: { a: 'b' } } } })).to.deep.equal([
      'spec.http[0].headers.request: has no effect with directResponse (a direct response is answered by the calling workload and nothing is sent); only headers.response applies',
    ]);
  });

  it('checks redirects as Istio does, and refuses the codes Envoy does not send', () => {
    expect(issuesOf({ redirect: {} })).to.deep.equal(['spec.http[0].redirect: must set uri, authority, scheme, port or derivePort: where to send the caller']);
    expect(issuesOf({ redirect: { uri: '/a', redirectCode: 300 } })).to.deep.equal(['spec.http[0].redirect.redirectCode: 300 is not a redirect code Envoy sends; use one of 301, 302, 303, 307, 308 (default 301)']);
    expect(issuesOf({ redirect: { uri: '/a', scheme: 'ftp' } })[0]).to.match(/^spec\.http\[0\]\.redirect\.scheme: unknown value "ftp"; must be one of http, https/);
    expect(issuesOf({ redirect: { port: 80, derivePort: 'FROM_REQUEST_PORT' } })).to.deep.equal(['spec.http[0].redirect: set one of port and derivePort, not both']);
    expect(issuesOf({ redirect: { port: 70000 } })[0]).to.match(/redirect\.port: must be at most 65535/);
    expect(issuesOf({ redirect: { authority: 'a b' } })[0]).to.match(/redirect\.authority: "a b" is not an authority/);
  });

  it('checks direct responses: status 200-599, one body of at most 1MB, bytes in base64', () => {
    expect(issuesOf({ directResponse: { status: 99 } })).to.deep.equal(['spec.http[0].directResponse.status: HTTP status 99 is not in range 200-599']);
    expect(issuesOf({ directResponse: {} })).to.deep.equal(['spec.http[0].directResponse.status: is required']);
    expect(issuesOf({ directResponse: { status: 200, body: { string: 'a', bytes: 'YQ==' } } })).to.deep.equal(['spec.http[0].directResponse.body: set one of string and bytes, not both']);
    expect(issuesOf({ directResponse: { status: 200, body: { bytes: 'not base64!' } } })).to.deep.equal(['spec.http[0].directResponse.body.bytes: must be base64 (the bytes as protobuf JSON writes them)']);
    expect(issuesOf({ directResponse: { status: 200, body: { string: 'x'.repeat(1024 * 1024 + 1) } } })[0]).to.match(/directResponse\.body: is 1048577 bytes; Istio allows at most 1MB/);
  });

  it('checks rewrites: one of uri and uriRegexRewrite, a compiling regex, groups that exist', () => {
    expect(withRoute({ rewrite: {} })).to.deep.equal(['spec.http[0].rewrite: must set uri, uriRegexRewrite or authority: what to rewrite']);
    expect(withRoute({ rewrite: { uri: '/a', uriRegexRewrite: { match: 'a', rewrite: 'b' } } })).to.deep.equal(['spec.http[0].rewrite: set one of uri and uriRegexRewrite, not both']);
    expect(withRoute({ rewrite: { uriRegexRewrite: { match: '(', rewrite: '/' } } })[0]).to.match(/^spec\.http\[0\]\.rewrite\.uriRegexRewrite\.match: invalid regular expression "\("/);
    expect(withRoute({ rewrite: { uriRegexRewrite: { match: '/a' } } })).to.deep.equal(['spec.http[0].rewrite.uriRegexRewrite.rewrite: is required']);
    expect(withRoute({ rewrite: { uriRegexRewrite: { match: '^/(a)', rewrite: '/\\2' } } })).to.deep.equal(['spec.http[0].rewrite.uriRegexRewrite.rewrite: "/\\\\2" names group \\2, but the match has 1 group']);
    expect(substitutionProblem('/\\x', 'a')).to.match(/backslash must be followed by a digit/);
    expect(substitutionProblem('/\\\\\\0', 'a')).to.equal(undefined);
  });

  it('checks header operations: names, Envoy variables refused, host only where it rewrites the authority, once', () => {
    expect(withRoute({ headers: { request: { set: { ':path': '/x' } } } })[0]).to.match(/set\[":path"\]: ":path": a header starting with ':' cannot be changed/);
    expect(withRoute({ headers: { request: { remove: ['host'] } } })[0]).to.match(/remove\[0\]: "host": the Host header cannot be removed here/);
    expect(withRoute({ headers: { response: { set: { host: 'x' } } } })[0]).to.match(/response\.set\.host: "host": the Host header cannot be removed here, nor set in a response/);
    expect(withRoute({ headers: { request: { set: { 'bad name': 'x' } } } })[0]).to.match(/"bad name" is not a valid header name/);
    expect(withRoute({ headers: { request: { set: { 'x-ip': '%DOWNSTREAM_REMOTE_ADDRESS%' } } } })[0]).to.match(
      /set\.x-ip: "%DOWNSTREAM_REMOTE_ADDRESS%": Envoy's substitution "%DOWNSTREAM_REMOTE_ADDRESS%" is not supported by Weft/,
    );
    expect(withRoute({ headers: { request: { set: { 'x-pct': '100%' } } } })[0]).to.match(/a lone % is an error in Envoy's header values; write %% for a literal %/);
    expect(withRoute({ headers: { request: { add: { 'x-a': 'a\nb' } } } })[0]).to.match(/control character/);
    expect(withRoute({ rewrite: { authority: 'a' }, headers: { request: { set: { host: 'b' } } } })).to.deep.equal([
      'spec.http[0].headers.request.set.host: rewrites the authority a second time (also rewrite.authority); set it in one place',
    ]);
    expect(issuesOf({ route: [{ destination: { host: 'ratings' }, headers: { request: { set: { host: 'a' }, add: { ':authority': 'b' } } } }] })).to.deep.equal([
      'spec.http[0].route[0].headers.request: sets the authority (host) more than once; set it in one place',
    ]);
  });
});

describe('VirtualService match queryParams, withoutHeaders, ignoreUriCase, sourceLabels, sourceNamespace', () => {
  const match = (m: Record<string, unknown>) => withRoute({ match: [m] });
  it('accepts them as Istio writes them', () => {
    expect(match({ queryParams: { user: { exact: 'jason' }, id: { regex: '\\d+' }, v: { prefix: '2' }, debug: {} } })).to.deep.equal([]);
    expect(match({ withoutHeaders: { 'x-canary': {}, 'end-user': { exact: 'jason' }, 'x-gone': { regex: '*' } } })).to.deep.equal([]);
    expect(match({ uri: { prefix: '/API' }, ignoreUriCase: true })).to.deep.equal([]);
    expect(match({ sourceLabels: { app: 'productpage', version: 'v1' }, sourceNamespace: 'shop' })).to.deep.equal([]);
  });

  it('names bad values by their path', () => {
    expect(match({ queryParams: { id: { regex: '(' } } })[0]).to.match(/^spec\.http\[0\]\.match\[0\]\.queryParams\.id\.regex: invalid regular expression/);
    expect(match({ queryParams: { '': { exact: 'a' } } })[0]).to.match(/a query parameter name must not be empty/);
    expect(match({ withoutHeaders: { 'X-Up': {} } })[0]).to.match(/withoutHeaders\.X-Up: header names must be lower case/);
    expect(match({ withoutHeaders: { 'x-a': { exact: 'a', prefix: 'b' } } })).to.deep.equal(['spec.http[0].match[0].withoutHeaders.x-a: set exactly one of exact, prefix, regex; got "exact", "prefix"']);
    expect(match({ withoutHeaders: { 'x-a': { regex: '+' } } })[0]).to.match(/withoutHeaders\.x-a\.regex: invalid regular expression/);
    expect(match({ ignoreUriCase: 'yes' })[0]).to.match(/ignoreUriCase: must be true or false/);
    expect(match({ sourceNamespace: 'Shop' })[0]).to.match(/sourceNamespace: "Shop" is not a valid namespace/);
    expect(match({ sourceLabels: { 'bad key!': 'x' } })[0]).to.match(/^spec\.http\[0\]\.match\[0\]\.sourceLabels/);
  });
});
