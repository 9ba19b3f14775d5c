import { expect } from 'chai';
import { validationIssues } from './validation-issues.js';
import { checkReferences, validateResource, type Resource } from './index.js';

function vs(spec: unknown, extra: Record<string, unknown> = {}): unknown {
  return { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'reviews' }, spec, ...extra };
}
function dr(spec: unknown): unknown {
  return { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'reviews' }, spec };
}
const issuesOf = validationIssues;

describe('validateResource', () => {
  it('accepts Istio VirtualService and DestinationRule YAML in every networking apiVersion', () => {
    for (const v of ['v1', 'v1beta1', 'v1alpha3']) {
      const r = validateResource({
        apiVersion: `networking.istio.io/${v}`,
        kind: 'VirtualService',
        metadata: { name: 'reviews' },
        spec: {
          hosts: ['reviews'],
          http: [
            { match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
            { route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 50 }, { destination: { host: 'reviews', subset: 'v3' }, weight: 50 }] },
          ],
        },
      });
      expect(r.metadata.namespace).to.equal('default');
    }
    const d = validateResource(dr({ host: 'reviews', trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } }, subsets: [{ name: 'v1', labels: { version: 'v1' } }] }));
    expect(d.kind).to.equal('DestinationRule');
  });

  it('names the path of an Istio field Weft does not support yet', () => {
    expect(issuesOf(vs({ hosts: ['r'], http: [{ route: [{ destination: { host: 'r' } }], corsPolicy: {} }] }))).to.deep.equal([
      'spec.http[0].corsPolicy: this Istio field is not supported by Weft yet',
    ]);
    expect(issuesOf(dr({ host: 'r', trafficPolicy: { tunnel: {} } }))[0]).to.match(/^spec\.trafficPolicy\.tunnel: this Istio field is not supported/);
    expect(issuesOf(dr({ host: 'r', trafficPolicy: { loadBalancer: { simple: 'PASSTHROUGH' } } }))[0]).to.match(/^spec\.trafficPolicy\.loadBalancer\.simple: PASSTHROUGH is not supported/);
  });

  it('names the path of an unknown field and of a wrong type', () => {
    // route is required unless the route redirects or answers directly: a check of meaning, made once the fields are known.
    expect(issuesOf(vs({ hosts: ['r'], http: [{ name: 'r' }] }))).to.deep.equal(['spec.http[0].route: is required']);
    expect(issuesOf(vs({ hosts: ['r'], http: [{ rout: [] }] })).some((s) => s.startsWith('spec.http[0].rout: unknown field'))).to.equal(true);
    expect(issuesOf(vs({ hosts: 'reviews' }))).to.deep.equal(['spec.hosts: must be a list, got a string']);
    expect(issuesOf(dr({ host: 'r', trafficPolicy: { loadBalancer: { simple: 'FASTEST' } } }))[0]).to.match(/simple: unknown value "FASTEST"/);
  });

  it('rejects an invalid regex, two match kinds at once and upper-case header names', () => {
    const bad = issuesOf(vs({ hosts: ['r'], http: [{ match: [{ uri: { regex: '(' } }], route: [{ destination: { host: 'r' } }] }] }));
    expect(bad[0]).to.match(/^spec\.http\[0\]\.match\[0\]\.uri\.regex: invalid regular expression/);
    expect(issuesOf(vs({ hosts: ['r'], http: [{ match: [{ uri: { exact: '/a', prefix: '/' } }], route: [{ destination: { host: 'r' } }] }] }))[0]).to.match(/set exactly one of/);
    expect(issuesOf(vs({ hosts: ['r'], http: [{ match: [{ headers: { 'End-User': { exact: 'x' } } }], route: [{ destination: { host: 'r' } }] }] }))[0]).to.match(/lower case/);
  });

  it('accepts an empty header match as a presence test', () => {
    expect(issuesOf(vs({ hosts: ['r'], http: [{ match: [{ headers: { 'x-canary': {} } }], route: [{ destination: { host: 'r' } }] }] }))).to.deep.equal([]);
  });

  it('rejects weights that make no sense', () => {
    expect(issuesOf(vs({ hosts: ['r'], http: [{ route: [{ destination: { host: 'r' }, weight: -1 }] }] }))[0]).to.match(/weight: must be at least 0/);
    expect(issuesOf(vs({ hosts: ['r'], http: [{ route: [{ destination: { host: 'r' }, weight: 1.5 }] }] }))[0]).to.match(/weight: must be an integer/);
    expect(issuesOf(vs({ hosts: ['r'], http: [{ route: [{ destination: { host: 'a' }, weight: 0 }, { destination: { host: 'b' } }] }] }))[0]).to.match(/add up to 0/);
  });

  it('checks kind, apiVersion, metadata and subset names', () => {
    expect(issuesOf({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' } })[0]).to.match(/^kind: unsupported kind "Service"/);
    expect(issuesOf(vs({ hosts: ['r'] }, { apiVersion: 'security.istio.io/v1' }))[0]).to.match(/^apiVersion: /);
    expect(issuesOf(vs({ hosts: ['r'] }, { metadata: { name: 'Bad_Name' } }))[0]).to.match(/^metadata\.name: /);
    expect(issuesOf(dr({ host: 'r', subsets: [{ name: 'v1' }, { name: 'v1' }] }))[0]).to.match(/duplicate subset "v1"/);
  });
});

describe('checkReferences', () => {
  const route = validateResource(vs({ hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v2' } }] }] }));
  it('reports a route to a subset that no DestinationRule defines', () => {
    const issues = checkReferences([route]);
    expect(issues).to.have.length(1);
    expect(issues[0]!.path).to.equal('spec.http[0].route[0].destination.subset');
  });
  it("says it in istioctl analyze's words, with IST0101 and what a request routed there gets", () => {
    expect(checkReferences([route])[0]).to.deep.include({ kind: 'VirtualService', namespace: 'default', name: route.metadata.name, code: 'IST0101' });
    expect(checkReferences([route])[0]!.message).to.equal(
      'Referenced host+subset in destinationrule not found: "reviews+v2"; requests routed there fail with 503 (Envoy flag NC) until a DestinationRule for reviews.default.svc.cluster.local defines subset "v2"',
    );
  });
  it('reports a subset that the DestinationRule of another host defines, not of the one routed to', () => {
    const other = validateResource(dr({ host: 'ratings', subsets: [{ name: 'v2', labels: { version: 'v2' } }] }));
    expect(checkReferences([route, other])).to.have.length(1);
  });
  it('resolves short and long host names to one service', () => {
    const rule = validateResource({ ...(dr({ host: 'reviews.default.svc.cluster.local', subsets: [{ name: 'v2', labels: { version: 'v2' } }] }) as object) }) as Resource;
    expect(checkReferences([route, rule])).to.deep.equal([]);
  });
});

describe('validateResource: own properties only', () => {
  const members = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__'];

  it('reports a field named like an Object.prototype member as unknown, at every level (JSON input)', () => {
    for (const m of members) {
      // JSON.parse makes every key an own property, `__proto__` included, as a request body does.
      const field = JSON.stringify(m);
      const at = (json: string) => issuesOf(JSON.parse(json));
      expect(at(`{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"r"},"spec":{"host":"r",${field}:{}}}`)).to.deep.equal([
        `spec.${m}: unknown field (known here: host, trafficPolicy, subsets)`,
      ]);
      expect(at(`{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"r",${field}:1},"spec":{"host":"r"}}`)[0]).to.match(
        new RegExp(`^metadata\\.${m}: unknown field`),
      );
      expect(at(`{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"r"},"spec":{"hosts":["r"],"http":[{"route":[{"destination":{"host":"r",${field}:"x"}}]}]}}`)[0]).to.match(
        new RegExp(`^spec\\.http\\[0\\]\\.route\\[0\\]\\.destination\\.${m}: unknown field`),
      );
      expect(at(`{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"r"},"spec":{"host":"r"},${field}:1}`)[0]).to.match(new RegExp(`^${m}: unknown field`));
    }
  });

  it('refuses the key __proto__ in maps, and reads other member names in maps as the plain keys they are', () => {
    expect(issuesOf(JSON.parse('{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"r"},"spec":{"host":"r","subsets":[{"name":"v1","labels":{"__proto__":"x"}}]}}'))[0]).to.match(
      /^spec\.subsets\[0\]\.labels\.__proto__: /,
    );
    const headers = JSON.parse('{"__proto__":{"exact":"x"}}');
    expect(issuesOf(vs({ hosts: ['r'], http: [{ match: [{ headers }], route: [{ destination: { host: 'r' } }] }] }))[0]).to.match(/headers\.__proto__: the key __proto__ is not allowed/);
    const r = validateResource(dr({ host: 'r', subsets: [{ name: 'v1', labels: { constructor: 'v1', valueof: 'x' } }] })) as Resource & { kind: 'DestinationRule' };
    expect(r.spec.subsets![0]!.labels).to.deep.equal({ constructor: 'v1', valueof: 'x' });
  });
});

describe('validateResource: hosts and free-form strings', () => {
  const badHosts: [string, RegExp][] = [
    ['../../etc', /"\.\.\/\.\.\/etc" is not a valid host name: "\/" at position 2 is not allowed/],
    ['a\u001b[31mb', /"a\\u001b\[31mb" is not a valid host name|control character "\\u001b"/],
    ['\u001b]0;owned\u0007', /control character "\\u001b" at position 0/],
    ['x'.repeat(10_000), /is 10000 characters long; a host name has at most 253/],
    [`${'a'.repeat(64)}.b`, /label 1 is 64 characters long/],
    ['a..b', /empty label/],
    ['.a', /empty label/],
    ['-a', /label "-a" must start and end with a letter or digit/],
    ['a-.b', /label "a-" must start and end/],
    ['a.*.b', /a wildcard may only be the first label/],
    ['reviews.default.', /without the trailing dot \("reviews.default"\)/],
    ['reviews.123', /last label must not be all digits/],
    ['rev iews', /" " at position 3 is not allowed/],
    ['', /must not be empty/],
  ];
  const inEveryHostField = (host: string) => [
    issuesOf(vs({ hosts: [host], http: [{ route: [{ destination: { host: 'r' } }] }] })),
    issuesOf(dr({ host })),
    issuesOf(vs({ hosts: ['r'], http: [{ route: [{ destination: { host } }] }] })),
  ];
  const paths = ['spec.hosts[0]', 'spec.host', 'spec.http[0].route[0].destination.host'];

  it('refuses host names Istio refuses, in VirtualService hosts, DestinationRule host and destination host', () => {
    for (const [host, message] of badHosts) {
      inEveryHostField(host).forEach((issues, i) => {
        expect(issues, `${JSON.stringify(host)} in ${paths[i]}`).to.have.length(1);
        expect(issues[0]!.startsWith(`${paths[i]}: `), issues[0]).to.equal(true);
        expect(issues[0]).to.match(message);
      });
    }
  });

  it('never echoes a control character or a 10 000-character value raw in a message', () => {
    for (const [host] of badHosts) {
      for (const issues of inEveryHostField(host)) {
        expect(issues[0]).not.to.match(/[\u0000-\u001f\u007f-\u009f]/);
        expect(issues[0]!.length).to.be.below(400);
      }
    }
  });

  it('accepts short, namespaced, full and upper-case names (as Istio does), and an IPv4 address in VirtualService hosts', () => {
    for (const host of ['reviews', 'reviews.bookinfo', 'reviews.bookinfo.svc.cluster.local', 'Reviews.Bookinfo', 'a-b.c-d.example.com', `${'a'.repeat(63)}.b`]) {
      expect(inEveryHostField(host), host).to.deep.equal([[], [], []]);
    }
    expect(issuesOf(vs({ hosts: ['10.0.0.1'], http: [{ route: [{ destination: { host: 'r' } }] }] }))).to.deep.equal([]);
    expect(issuesOf(dr({ host: '10.0.0.1' }))[0]).to.match(/last label must not be all digits/);
  });

  it('checks wildcard syntax as Istio does, then refuses wildcards as not supported yet', () => {
    for (const host of ['*.example.com', '*-svc.default', '*foo.bar']) {
      expect(inEveryHostField(host).map((i) => i[0]), host).to.deep.equal(paths.map((p) => `${p}: wildcard hosts are not supported by Weft yet`));
    }
    const [inVs, inDr, inDestination] = inEveryHostField('*');
    expect(inVs![0]).to.match(/the wildcard host \* is not allowed in a VirtualService bound to the mesh/);
    expect(inDr![0]).to.match(/wildcard hosts are not supported by Weft yet/);
    expect(inDestination![0]).to.match(/a destination host cannot be the wildcard \*/);
    expect(inEveryHostField('**.example.com')[1]![0]).to.match(/label "\*\*" must start and end/);
  });

  it('checks label keys and values as Kubernetes does, in metadata and in subsets', () => {
    const meta = (labels: unknown, annotations?: unknown) => issuesOf(vs({ hosts: ['r'] }, { metadata: { name: 'r', labels, ...(annotations ? { annotations } : {}) } }));
    expect(meta({ app: 'reviews', 'app.kubernetes.io/name': 'reviews', version: '', 'example.com/x_y.z': 'A-b_c.9' })).to.deep.equal([]);
    expect(meta({ 'app.kubernetes.io/name': 'bad value!' })).to.deep.equal([
      'metadata.labels["app.kubernetes.io/name"]: "bad value!" is not a valid label value (letters, digits, \'-\', \'_\' and \'.\', starting and ending with a letter or digit)',
    ]);
    expect(meta({ '-app': 'x' })[0]).to.match(/^metadata\.labels\.-app: "-app" is not a valid key/);
    expect(meta({ 'Example.com/app': 'x' })[0]).to.match(/prefix "Example.com" is not a DNS subdomain/);
    expect(meta({ app: 'x'.repeat(64) })[0]).to.match(/^metadata\.labels\.app: is 64 characters long/);
    expect(meta({ 'a\u001bb': 'x' })[0]).to.match(/^metadata\.labels\["a\\u001bb"\]: "a\\u001bb" is not a valid key/);
    expect(issuesOf(dr({ host: 'r', subsets: [{ name: 'v1', labels: { version: 'v1\u001b[2J' } }] }))[0]).to.match(/^spec\.subsets\[0\]\.labels\.version: contains the control character "\\u001b"/);
  });

  it('lets annotation values hold any text, bounds their size and checks their keys', () => {
    const meta = (annotations: unknown) => issuesOf(vs({ hosts: ['r'] }, { metadata: { name: 'r', annotations } }));
    expect(meta({ 'example.com/note': 'line one\nline two \u001b[31m red \u202e' })).to.deep.equal([]);
    expect(meta({ 'bad key': 'x' })[0]).to.match(/^metadata\.annotations\["bad key"\]: "bad key" is not a valid key/);
    expect(meta({ a: 'x'.repeat(256 * 1024) })[0]).to.match(/^metadata\.annotations: keys and values take 262145 bytes together; at most 262144/);
  });

  it('refuses control characters in names, match values and gateways, but a tab in a header value is fine', () => {
    const route = (extra: object) => issuesOf(vs({ hosts: ['r'], http: [{ ...extra, route: [{ destination: { host: 'r' } }] }] }));
    expect(route({ name: 'a\u001b[31m' })[0]).to.match(/^spec\.http\[0\]\.name: contains the control character "\\u001b" at position 1/);
    expect(route({ match: [{ name: 'm\u0085' }] })[0]).to.match(/^spec\.http\[0\]\.match\[0\]\.name: contains the control character "\\u0085"/);
    expect(route({ match: [{ uri: { prefix: '/\u0000' } }] })[0]).to.match(/^spec\.http\[0\]\.match\[0\]\.uri\.prefix: contains the control character/);
    expect(route({ match: [{ headers: { 'x-a': { exact: 'a\tb' } } }] })).to.deep.equal([]);
    expect(route({ match: [{ headers: { 'x-a b': { exact: 'a' } } }] })[0]).to.match(/headers\["x-a b"\]: "x-a b" is not a valid header name/);
    expect(issuesOf(vs({ hosts: ['r'], gateways: ['mesh\u001b'] }))[0]).to.match(/^spec\.gateways\[0\]: contains the control character/);
    expect(issuesOf(vs({ hosts: ['r'] }, { metadata: { name: 'r', namespace: 'a\u001b' } }))[0]).to.match(/^metadata\.namespace: contains the control character/);
  });

  it('refuses weights beyond int32 and subset names that are not DNS labels on the destination side too', () => {
    const one = (d: object) => issuesOf(vs({ hosts: ['r'], http: [{ route: [{ destination: { host: 'r' }, ...d }] }] }));
    expect(one({ weight: 2 ** 31 })[0]).to.match(/weight: must be at most 2147483647/);
    expect(one({ weight: 1e300 })[0]).to.match(/weight: must be at most 2147483647/);
    expect(issuesOf(vs({ hosts: ['r'], http: [{ route: [{ destination: { host: 'r', subset: '../v1' } }] }] }))[0]).to.match(
      /destination\.subset: "\.\.\/v1" is not a valid subset name/,
    );
  });
});
