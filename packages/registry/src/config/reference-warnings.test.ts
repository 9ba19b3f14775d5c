// Which unresolved references a write warns about: every one of a resource the batch named, and the
// ones the write introduced elsewhere; never one that was already there in a resource left alone.
import { expect } from 'chai';
import { resourceKey, validateResource, type Resource } from '@weft/api';
import { referenceWarnings } from './reference-warnings.js';

const route = (name: string, subset: string, namespace = 'bookinfo'): Resource =>
  validateResource({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, namespace },
    spec: { hosts: [name], http: [{ route: [{ destination: { host: name, subset } }] }] },
  });
const rule = (host: string, subsets: string[], namespace = 'bookinfo'): Resource =>
  validateResource({
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: host, namespace },
    spec: { host, subsets: subsets.map((s) => ({ name: s, labels: { version: s } })) },
  });
const key = (r: Resource) => resourceKey(r.kind, r.metadata.namespace, r.metadata.name);

describe('referenceWarnings', () => {
  it('warns about a VirtualService applied before its DestinationRule, naming its document and IST0101', () => {
    const vs = route('reviews', 'v1');
    const warnings = referenceWarnings({ before: [], after: [vs], named: new Set([key(vs)]), sources: new Map([[key(vs), 'vs.yaml#1']]) });
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.deep.include({
      source: 'vs.yaml#1',
      kind: 'VirtualService',
      namespace: 'bookinfo',
      name: 'reviews',
      path: 'spec.http[0].route[0].destination.subset',
      code: 'IST0101',
    });
    expect(warnings[0]!.message).to.match(/^Referenced host\+subset in destinationrule not found: "reviews\+v1"; /);
  });

  it('says nothing once the DestinationRule is there, in the batch or before it', () => {
    const vs = route('reviews', 'v1');
    const dr = rule('reviews', ['v1']);
    expect(referenceWarnings({ before: [], after: [vs, dr], named: new Set([key(vs), key(dr)]) })).to.deep.equal([]);
    expect(referenceWarnings({ before: [dr], after: [dr, vs], named: new Set([key(vs)]) })).to.deep.equal([]);
  });

  it('warns about a VirtualService left alone when the write removes what it routes to, without a source', () => {
    const vs = route('reviews', 'v2');
    const before = [vs, rule('reviews', ['v1', 'v2'])];
    const narrowed = rule('reviews', ['v1']);
    const changed = referenceWarnings({ before, after: [vs, narrowed], named: new Set([key(narrowed)]), sources: new Map([[key(narrowed), 'dr.yaml#1']]) });
    expect(changed.map((w) => [w.kind, w.name, w.source])).to.deep.equal([['VirtualService', 'reviews', undefined]]);
    const deleted = referenceWarnings({ before, after: [vs], named: new Set() });
    expect(deleted.map((w) => `${w.kind}/${w.name} ${w.path}`)).to.deep.equal(['VirtualService/reviews spec.http[0].route[0].destination.subset']);
  });

  it('repeats the warning of a resource the batch names again, not of one it leaves alone', () => {
    const broken = route('reviews', 'v9');
    const other = route('ratings', 'v1');
    const ratingsRule = rule('ratings', ['v1']);
    // Re-applying the broken VirtualService (unchanged) says so again.
    expect(referenceWarnings({ before: [broken], after: [broken], named: new Set([key(broken)]) })).to.have.length(1);
    // Applying something else does not repeat it.
    expect(referenceWarnings({ before: [broken, ratingsRule], after: [broken, ratingsRule, other], named: new Set([key(other)]) })).to.deep.equal([]);
  });

  it('resolves hosts per namespace: a rule for reviews in another namespace does not define the subset', () => {
    const vs = route('reviews', 'v1', 'bookinfo');
    const elsewhere = rule('reviews', ['v1'], 'shop');
    expect(referenceWarnings({ before: [], after: [vs, elsewhere], named: new Set([key(vs), key(elsewhere)]) })).to.have.length(1);
  });
});
