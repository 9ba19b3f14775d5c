import { expect } from 'chai';
import { validationIssues } from '../validation-issues.js';
import { validateResource, type AuthorizationPolicy } from '../index.js';

function ap(spec: unknown, apiVersion = 'security.istio.io/v1'): unknown {
  return { apiVersion, kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace: 'default' }, spec };
}
const issuesOf = validationIssues;

describe('AuthorizationPolicy validation', () => {
  it("accepts Istio's Bookinfo policies in v1 and v1beta1, allow-nothing and allow-all", () => {
    for (const v of ['v1', 'v1beta1']) {
      const r = validateResource(
        ap(
          {
            selector: { matchLabels: { app: 'details' } },
            action: 'ALLOW',
            rules: [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/bookinfo-productpage'] } }], to: [{ operation: { methods: ['GET'] } }] }],
          },
          `security.istio.io/${v}`,
        ),
      ) as AuthorizationPolicy;
      expect(r.kind).to.equal('AuthorizationPolicy');
      expect(r.spec.rules).to.have.length(1);
    }
    expect(issuesOf(ap({}))).to.deep.equal([]);
    expect(issuesOf(ap({ rules: [{}] }))).to.deep.equal([]);
    expect(issuesOf({ ...(ap({}) as object), apiVersion: 'networking.istio.io/v1' })[0]).to.match(/^apiVersion: .*use one of security\.istio\.io\/v1, security\.istio\.io\/v1beta1/);
  });

  it('accepts every supported field, value form and condition key', () => {
    const spec = {
      action: 'DENY',
      rules: [
        {
          from: [
            {
              source: {
                principals: ['*'], notPrincipals: ['cluster.local/*'], namespaces: ['foo'], notNamespaces: ['*-test'],
                ipBlocks: ['10.0.0.0/8', '::1'], notIpBlocks: ['10.1.2.3'], remoteIpBlocks: ['192.168.0.0/16'], notRemoteIpBlocks: ['2001:db8::/32'],
              },
            },
          ],
          to: [{ operation: { hosts: ['*.example.com'], notHosts: ['a.example.com:8080'], ports: ['9080'], notPorts: ['15000'], methods: ['GET'], notMethods: ['DELETE'], paths: ['/api/*'], notPaths: ['*.png'] } }],
          when: [
            { key: 'request.headers[x-user]', values: ['jason'] },
            { key: 'source.ip', notValues: ['10.0.0.0/8'] },
            { key: 'remote.ip', values: ['127.0.0.1'] },
            { key: 'source.namespace', values: ['default'] },
            { key: 'source.principal', notValues: ['*'] },
            { key: 'destination.port', values: ['9080'] },
          ],
        },
      ],
    };
    expect(issuesOf(ap(spec))).to.deep.equal([]);
  });

  it('refuses what Weft cannot enforce yet, each with its path', () => {
    expect(issuesOf(ap({ action: 'CUSTOM', provider: { name: 'ext-authz' }, rules: [{}] }))).to.deep.equal([
      'spec.action: CUSTOM is not supported by Weft yet (supported: ALLOW, DENY)',
    ]);
    expect(issuesOf(ap({ action: 'AUDIT' }))[0]).to.equal('spec.action: AUDIT is not supported by Weft yet (supported: ALLOW, DENY)');
    expect(issuesOf(ap({ targetRef: { kind: 'Gateway', name: 'g' } }))).to.deep.equal(['spec.targetRef: this Istio field is not supported by Weft yet']);
    expect(issuesOf(ap({ targetRefs: [] }))).to.deep.equal(['spec.targetRefs: this Istio field is not supported by Weft yet']);
    const jwt = issuesOf(ap({ rules: [{ from: [{ source: { requestPrincipals: ['*'] } }, { source: { notRequestPrincipals: ['a/b'] } }] }] }));
    expect(jwt[0]).to.match(/^spec\.rules\[0\]\.from\[0\]\.source\.requestPrincipals: this Istio field is not supported by Weft yet: it needs JWT/);
    expect(jwt.some((s) => s.startsWith('spec.rules[0].from[1].source.notRequestPrincipals: this Istio field is not supported by Weft yet: it needs JWT'))).to.equal(true);
    expect(issuesOf(ap({ rules: [{ when: [{ key: 'request.auth.claims[iss]', values: ['x'] }] }] }))).to.deep.equal([
      'spec.rules[0].when[0].key: the key "request.auth.claims[iss]" is not supported by Weft yet: it needs JWT request authentication (RequestAuthentication), which Weft does not have yet',
    ]);
    expect(issuesOf(ap({ rules: [{ when: [{ key: 'connection.sni', values: ['x'] }] }] }))[0]).to.match(/^spec\.rules\[0\]\.when\[0\]\.key: the key "connection\.sni" is not supported by Weft yet/);
    expect(issuesOf(ap({ rules: [{ to: [{ operation: { paths: ['/api/{*}/x'] } }] }] }))[0]).to.match(/^spec\.rules\[0\]\.to\[0\]\.operation\.paths\[0\]: .*path templates/);
  });

  it('names the path of a wrong value: action, provider, CIDR, port, condition', () => {
    expect(issuesOf(ap({ action: 'allow' }))[0]).to.equal('spec.action: unknown value "allow"; must be one of ALLOW, DENY');
    expect(issuesOf(ap({ action: 'ALLOW', provider: { name: 'x' } }))).to.deep.equal(['spec.provider: is only used with action CUSTOM, which Weft does not support yet']);
    expect(issuesOf(ap({ rules: [{ from: [{ source: { ipBlocks: ['10.0.0.0/33', '10.0.0.256', 'fe80::1%eth0'] } }] }] }))).to.deep.equal([
      'spec.rules[0].from[0].source.ipBlocks[0]: "10.0.0.0/33": the prefix length must be 0..32',
      'spec.rules[0].from[0].source.ipBlocks[1]: "10.0.0.256" is not an IP address or CIDR block (such as 10.0.0.0/16 or 2001:db8::/32)',
      'spec.rules[0].from[0].source.ipBlocks[2]: "fe80::1%eth0" is not an IP address or CIDR block (such as 10.0.0.0/16 or 2001:db8::/32)',
    ]);
    expect(issuesOf(ap({ rules: [{ to: [{ operation: { notPorts: ['0', 'http'] } }] }] }))).to.deep.equal([
      'spec.rules[0].to[0].operation.notPorts[0]: "0" is not a port number (1..65535, written as a string)',
      'spec.rules[0].to[0].operation.notPorts[1]: "http" is not a port number (1..65535, written as a string)',
    ]);
    expect(issuesOf(ap({ rules: [{ to: [{ operation: { ports: [9080] } }] }] }))).to.deep.equal(['spec.rules[0].to[0].operation.ports[0]: must be a string, got a number']);
    expect(issuesOf(ap({ rules: [{ when: [{ key: 'source.ip', values: ['nope'] }, { key: 'request.headers[x]' }, { key: 'source.user', values: ['a'] }] }] }))).to.deep.equal([
      'spec.rules[0].when[0].values[0]: "nope" is not an IP address or CIDR block (such as 10.0.0.0/16 or 2001:db8::/32)',
      'spec.rules[0].when[1]: set values or notValues for the key "request.headers[x]"',
      'spec.rules[0].when[2].key: unknown key "source.user"; supported: request.headers[<name>], source.ip, remote.ip, source.namespace, source.principal, destination.port',
    ]);
    expect(issuesOf(ap({ rules: [{ from: [{ source: {} }], to: [{}] }] }))).to.deep.equal([
      'spec.rules[0].to[0].operation: is required',
    ]);
    expect(issuesOf(ap({ rules: [{ from: [{ source: { principals: [] } }] }] }))).to.deep.equal([
      'spec.rules[0].from[0].source: must set at least one field (a source that names nothing is an error in Istio too)',
    ]);
    expect(issuesOf(ap({ rules: [{ from: [{ source: { principal: ['x'] } }] }] }))[0]).to.match(/^spec\.rules\[0\]\.from\[0\]\.source\.principal: unknown field \(known here: principals, /);
    expect(issuesOf(ap({ selector: { matchLabels: { app: 'a b' } } }))[0]).to.match(/^spec\.selector\.matchLabels\.app: /);
    expect(issuesOf(ap({ rules: [{ to: [{ operation: { methods: [''] } }] }] }))).to.deep.equal(['spec.rules[0].to[0].operation.methods[0]: must not be empty']);
  });

  it('reads fields as own properties only', () => {
    const spec = JSON.parse('{"rules":[{"constructor":[],"to":[{"operation":{"__proto__":["GET"]}}]}]}');
    const issues = issuesOf(ap(spec));
    expect(issues.some((s) => s.startsWith('spec.rules[0].constructor: unknown field'))).to.equal(true);
    expect(issues.some((s) => s.startsWith('spec.rules[0].to[0].operation.__proto__: unknown field'))).to.equal(true);
  });
});
