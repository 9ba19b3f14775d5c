import { expect } from 'chai';
import { checkReferences, isValidationError, validateResource, ValidationError, type Resource } from './index.js';

function vs(spec: unknown, extra: Record<string, unknown> = {}): unknown {
  return { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'reviews' }, spec, ...extra };
}
function dr(spec: unknown): unknown {
  return { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'reviews' }, spec };
}
function issuesOf(doc: unknown): string[] {
  try {
    validateResource(doc);
  } catch (e) {
    expect(isValidationError(e)).to.equal(true);
    return (e as ValidationError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}

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
    expect(issuesOf(vs({ hosts: ['r'], http: [{ route: [{ destination: { host: 'r' } }], fault: { abort: {} } }] }))).to.deep.equal([
      'spec.http[0].fault: this Istio field is not supported by Weft yet',
    ]);
    expect(issuesOf(dr({ host: 'r', trafficPolicy: { outlierDetection: {} } }))[0]).to.match(/^spec\.trafficPolicy\.outlierDetection: /);
    expect(issuesOf(dr({ host: 'r', trafficPolicy: { loadBalancer: { simple: 'PASSTHROUGH' } } }))[0]).to.match(/^spec\.trafficPolicy\.loadBalancer\.simple: PASSTHROUGH is not supported/);
  });

  it('names the path of an unknown field and of a wrong type', () => {
    expect(issuesOf(vs({ hosts: ['r'], http: [{ rout: [] }] }))).to.include.members([
      'spec.http[0].route: is required',
    ]);
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
  it('resolves short and long host names to one service', () => {
    const rule = validateResource({ ...(dr({ host: 'reviews.default.svc.cluster.local', subsets: [{ name: 'v2', labels: { version: 'v2' } }] }) as object) }) as Resource;
    expect(checkReferences([route, rule])).to.deep.equal([]);
  });
});
