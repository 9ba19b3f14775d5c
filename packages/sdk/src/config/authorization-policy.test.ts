import { expect } from 'chai';
import { parseIp, validateResource, type AuthorizationPolicy } from '@weft/api';
import { compileAuthorizationPolicy, compileValue } from './authorization-policy.js';
import type { AuthorizationRequest } from './authorization-request.js';
import { authorizationFor, isAllowed, type WorkloadScope } from './workload-authorization.js';

function policy(spec: unknown, namespace = 'default', name = 'p'): AuthorizationPolicy {
  return validateResource({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace }, spec }) as AuthorizationPolicy;
}

/** A plaintext request as the server builds it; override what a test needs. */
function request(over: Partial<Omit<AuthorizationRequest, 'sourceIp'>> & { ip?: string } = {}): AuthorizationRequest {
  const host = over.host ?? 'reviews:9080';
  return {
    method: 'GET',
    path: '/reviews/0',
    hostWithoutPort: host.replace(/:[0-9]+$/, ''),
    destinationPort: 9080,
    headers: {},
    principal: undefined,
    namespace: undefined,
    ...over,
    host,
    sourceIp: parseIp(over.ip ?? '127.0.0.1'),
  };
}

/** Whether a single ALLOW policy with this spec lets the request through. */
function allows(spec: unknown, req: AuthorizationRequest): boolean {
  return isAllowed(authorizationFor([compileAuthorizationPolicy(policy(spec))], SCOPE), req);
}
function rule(r: unknown): unknown {
  return { rules: [r] };
}
const SCOPE: WorkloadScope = { namespace: 'default', labels: { app: 'reviews', version: 'v1' }, rootNamespace: 'istio-system' };

describe('AuthorizationPolicy matching', () => {
  it("matches Istio's value forms: exact, prefix abc*, suffix *abc, presence *", () => {
    expect(compileValue('abc')('abc')).to.equal(true);
    expect(compileValue('abc')('abcd')).to.equal(false);
    expect(compileValue('/api/*')('/api/x')).to.equal(true);
    expect(compileValue('/api/*')('/ap')).to.equal(false);
    expect(compileValue('*.png')('/a.png')).to.equal(true);
    expect(compileValue('*.png')('/a.jpg')).to.equal(false);
    expect(compileValue('*')('x')).to.equal(true);
    expect(compileValue('*')('')).to.equal(false);
  });

  it('spec {} allows nothing, rules [{}] allows everything, an empty rules list nothing', () => {
    expect(allows({}, request())).to.equal(false);
    expect(allows({ rules: [{}] }, request())).to.equal(true);
    expect(allows({ rules: [] }, request())).to.equal(false);
  });

  it('operation: methods, paths (without query), ports, hosts and their not forms', () => {
    expect(allows(rule({ to: [{ operation: { methods: ['GET', 'HEAD'] } }] }), request({ method: 'HEAD' }))).to.equal(true);
    expect(allows(rule({ to: [{ operation: { methods: ['GET'] } }] }), request({ method: 'POST' }))).to.equal(false);
    expect(allows(rule({ to: [{ operation: { notMethods: ['DELETE'] } }] }), request({ method: 'DELETE' }))).to.equal(false);
    expect(allows(rule({ to: [{ operation: { notMethods: ['DELETE'] } }] }), request())).to.equal(true);
    expect(allows(rule({ to: [{ operation: { paths: ['/reviews/*'] } }] }), request())).to.equal(true);
    expect(allows(rule({ to: [{ operation: { paths: ['/ratings/*'] } }] }), request())).to.equal(false);
    expect(allows(rule({ to: [{ operation: { notPaths: ['*/0'] } }] }), request())).to.equal(false);
    expect(allows(rule({ to: [{ operation: { ports: ['9080'] } }] }), request())).to.equal(true);
    expect(allows(rule({ to: [{ operation: { ports: ['9081'] } }] }), request())).to.equal(false);
    expect(allows(rule({ to: [{ operation: { notPorts: ['9080'] } }] }), request())).to.equal(false);
    // Hosts: case-insensitive, with or without the port.
    expect(allows(rule({ to: [{ operation: { hosts: ['Reviews'] } }] }), request({ host: 'reviews:9080' }))).to.equal(true);
    expect(allows(rule({ to: [{ operation: { hosts: ['reviews:9080'] } }] }), request({ host: 'reviews:9080' }))).to.equal(true);
    expect(allows(rule({ to: [{ operation: { hosts: ['reviews:9081'] } }] }), request({ host: 'reviews:9080' }))).to.equal(false);
    expect(allows(rule({ to: [{ operation: { hosts: ['*.example.com'] } }] }), request({ host: 'a.example.com' }))).to.equal(true);
    expect(allows(rule({ to: [{ operation: { notHosts: ['reviews'] } }] }), request({ host: 'reviews:9080' }))).to.equal(false);
    expect(allows(rule({ to: [{ operation: { notHosts: ['reviews'] } }] }), request({ host: 'ratings' }))).to.equal(true);
  });

  it('fields of one operation are ANDed; operations of one rule, and rules of one policy, are ORed', () => {
    const both = rule({ to: [{ operation: { methods: ['GET'], paths: ['/a'] } }] });
    expect(allows(both, request({ path: '/a' }))).to.equal(true);
    expect(allows(both, request({ path: '/b' }))).to.equal(false);
    const either = rule({ to: [{ operation: { methods: ['POST'] } }, { operation: { paths: ['/b'] } }] });
    expect(allows(either, request({ path: '/b' }))).to.equal(true);
    expect(allows(either, request({ path: '/c' }))).to.equal(false);
    expect(allows({ rules: [{ to: [{ operation: { methods: ['POST'] } }] }, { to: [{ operation: { paths: ['/c'] } }] }] }, request({ path: '/c' }))).to.equal(true);
    // from, to and when of one rule must all match.
    const fromAndTo = rule({ from: [{ source: { ipBlocks: ['10.0.0.0/8'] } }], to: [{ operation: { methods: ['GET'] } }] });
    expect(allows(fromAndTo, request({ ip: '10.0.0.1' }))).to.equal(true);
    expect(allows(fromAndTo, request({ ip: '127.0.0.1' }))).to.equal(false);
  });

  it('source: ipBlocks and remoteIpBlocks (the peer address) and their not forms, IPv4 and IPv6', () => {
    expect(allows(rule({ from: [{ source: { ipBlocks: ['127.0.0.0/8'] } }] }), request())).to.equal(true);
    expect(allows(rule({ from: [{ source: { ipBlocks: ['127.0.0.0/8'] } }] }), request({ ip: '::ffff:127.0.0.1' }))).to.equal(true);
    expect(allows(rule({ from: [{ source: { ipBlocks: ['10.0.0.0/8'] } }] }), request())).to.equal(false);
    expect(allows(rule({ from: [{ source: { notIpBlocks: ['127.0.0.1'] } }] }), request())).to.equal(false);
    expect(allows(rule({ from: [{ source: { remoteIpBlocks: ['::1'] } }] }), request({ ip: '::1' }))).to.equal(true);
    expect(allows(rule({ from: [{ source: { notRemoteIpBlocks: ['::/0'] } }] }), request({ ip: '::1' }))).to.equal(false);
  });

  it("plaintext (no mTLS yet): principals and namespaces never match, their not forms always do, as Istio's", () => {
    for (const source of [{ principals: ['cluster.local/ns/default/sa/bookinfo-productpage'] }, { principals: ['*'] }, { namespaces: ['default'] }, { namespaces: ['*'] }]) {
      expect(allows(rule({ from: [{ source }] }), request()), JSON.stringify(source)).to.equal(false);
    }
    expect(allows(rule({ from: [{ source: { notPrincipals: ['*'] } }] }), request())).to.equal(true);
    expect(allows(rule({ from: [{ source: { notNamespaces: ['foo'] } }] }), request())).to.equal(true);
    expect(allows(rule({ when: [{ key: 'source.principal', values: ['*'] }] }), request())).to.equal(false);
    expect(allows(rule({ when: [{ key: 'source.namespace', notValues: ['foo'] }] }), request())).to.equal(true);
    // When a verified identity is there (mTLS, later), the same rules read it.
    const verified = request({ principal: 'cluster.local/ns/default/sa/bookinfo-productpage', namespace: 'default' });
    expect(allows(rule({ from: [{ source: { principals: ['cluster.local/ns/default/sa/bookinfo-productpage'] } }] }), verified)).to.equal(true);
    expect(allows(rule({ from: [{ source: { namespaces: ['def*'] } }] }), verified)).to.equal(true);
    expect(allows(rule({ from: [{ source: { notNamespaces: ['default'] } }] }), verified)).to.equal(false);
  });

  it('when: request headers (absent never matches values, always notValues), source.ip, remote.ip, destination.port', () => {
    const user = rule({ when: [{ key: 'request.headers[end-user]', values: ['jason'] }] });
    expect(allows(user, request({ headers: { 'end-user': 'jason' } }))).to.equal(true);
    expect(allows(user, request({ headers: { 'end-user': 'bob' } }))).to.equal(false);
    expect(allows(user, request())).to.equal(false);
    const notUser = rule({ when: [{ key: 'request.headers[End-User]', notValues: ['jason'] }] });
    expect(allows(notUser, request())).to.equal(true);
    expect(allows(notUser, request({ headers: { 'end-user': 'jason' } }))).to.equal(false);
    expect(allows(rule({ when: [{ key: 'request.headers[x-a]', values: ['*'] }] }), request({ headers: { 'x-a': '1' } }))).to.equal(true);
    expect(allows(rule({ when: [{ key: 'source.ip', values: ['127.0.0.0/8'] }] }), request())).to.equal(true);
    expect(allows(rule({ when: [{ key: 'remote.ip', notValues: ['127.0.0.0/8'] }] }), request())).to.equal(false);
    expect(allows(rule({ when: [{ key: 'destination.port', values: ['9080'] }] }), request())).to.equal(true);
    expect(allows(rule({ when: [{ key: 'destination.port', notValues: ['9080'] }] }), request())).to.equal(false);
    // Every condition must hold.
    const two = rule({ when: [{ key: 'destination.port', values: ['9080'] }, { key: 'request.headers[x-a]', values: ['1'] }] });
    expect(allows(two, request())).to.equal(false);
  });
});

describe('AuthorizationPolicy scope and order', () => {
  const compile = (spec: unknown, namespace = 'default', name = 'p') => compileAuthorizationPolicy(policy(spec, namespace, name));

  it('DENY is decided before ALLOW; with no ALLOW policy a request that no DENY matches is allowed', () => {
    const deny = compile({ action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] }, 'default', 'deny');
    const allowAll = compile({ rules: [{}] }, 'default', 'allow');
    const authz = authorizationFor([allowAll, deny], SCOPE);
    expect(isAllowed(authz, request({ path: '/admin/x' }))).to.equal(false);
    expect(isAllowed(authz, request({ path: '/x' }))).to.equal(true);
    const denyOnly = authorizationFor([deny], SCOPE);
    expect(isAllowed(denyOnly, request({ path: '/x' }))).to.equal(true);
    expect(isAllowed(denyOnly, request({ path: '/admin' }))).to.equal(false);
    // A DENY policy without rules matches nothing, so it denies nothing.
    expect(isAllowed(authorizationFor([compile({ action: 'DENY' })], SCOPE), request())).to.equal(true);
  });

  it('with several ALLOW policies, matching any one is enough', () => {
    const gets = compile({ rules: [{ to: [{ operation: { methods: ['GET'] } }] }] }, 'default', 'a');
    const posts = compile({ rules: [{ to: [{ operation: { methods: ['POST'] } }] }] }, 'default', 'b');
    const authz = authorizationFor([gets, posts], SCOPE);
    expect(isAllowed(authz, request({ method: 'POST' }))).to.equal(true);
    expect(isAllowed(authz, request({ method: 'PUT' }))).to.equal(false);
  });

  it('applies policies of the root namespace mesh-wide and of the own namespace, narrowed by selector.matchLabels', () => {
    const nothing = {};
    const cases: [string, unknown, boolean][] = [
      ['default', nothing, true],
      ['istio-system', nothing, true],
      ['other', nothing, false],
      ['default', { selector: { matchLabels: { app: 'reviews' } } }, true],
      ['default', { selector: { matchLabels: { app: 'reviews', version: 'v1' } } }, true],
      ['default', { selector: { matchLabels: { app: 'reviews', version: 'v2' } } }, false],
      ['default', { selector: { matchLabels: { app: 'ratings' } } }, false],
      ['istio-system', { selector: { matchLabels: { app: 'reviews' } } }, true],
      ['istio-system', { selector: { matchLabels: { app: 'ratings' } } }, false],
      ['default', { selector: {} }, true],
    ];
    for (const [ns, spec, applies] of cases) {
      const authz = authorizationFor([compile(spec, ns)], SCOPE);
      expect(authz.sources.length, `${ns} ${JSON.stringify(spec)}`).to.equal(applies ? 1 : 0);
      // An applied allow-nothing denies; one that does not apply leaves the request alone.
      expect(isAllowed(authz, request())).to.equal(!applies);
    }
    const customRoot = authorizationFor([compile(nothing, 'mesh-root')], { ...SCOPE, rootNamespace: 'mesh-root' });
    expect(customRoot.sources).to.deep.equal(['mesh-root/p']);
  });

  it('a label selector reads only own properties of the workload labels', () => {
    const authz = authorizationFor([compile({ selector: { matchLabels: { constructor: 'x' } } })], SCOPE);
    expect(authz.sources).to.deep.equal([]);
  });
});
