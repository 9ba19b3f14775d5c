import { expect } from 'chai';
import { parseFqdn, toFqdn, compileIstioRegex, parseManifest, isValidationError } from './index.js';

describe('hosts', () => {
  it('resolves short, namespaced and full names to one FQDN', () => {
    expect(toFqdn('reviews', 'bookinfo')).to.equal('reviews.bookinfo.svc.cluster.local');
    expect(toFqdn('reviews.default', 'bookinfo')).to.equal('reviews.default.svc.cluster.local');
    expect(toFqdn('Reviews.Default.svc.cluster.local', 'x')).to.equal('reviews.default.svc.cluster.local');
    expect(parseFqdn('reviews.default.svc.cluster.local')).to.deep.equal({ service: 'reviews', namespace: 'default', fqdn: 'reviews.default.svc.cluster.local' });
    expect(parseFqdn('example.com')).to.equal(undefined);
  });
});

describe('compileIstioRegex', () => {
  it('matches the whole value, as RE2 full match does', () => {
    expect(compileIstioRegex('\\d+').test('123')).to.equal(true);
    expect(compileIstioRegex('\\d+').test('a123')).to.equal(false);
    expect(compileIstioRegex('a|b').test('ab')).to.equal(false);
  });
  it('reads a leading (?i) as case-insensitive', () => {
    expect(compileIstioRegex('(?i)jason').test('JaSoN')).to.equal(true);
  });
});

describe('parseManifest', () => {
  it('reads multi-document YAML and names file, document and path in errors', () => {
    const text = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a}
spec: {hosts: [a], http: [{route: [{destination: {host: a}}]}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: b}
spec: {host: b, subsets: [{name: v1, lables: {version: v1}}]}
`;
    try {
      parseManifest(text, 'rules.yaml');
      expect.fail('should throw');
    } catch (e) {
      expect(isValidationError(e)).to.equal(true);
      expect((e as Error).message).to.match(/^rules\.yaml#2 \(DestinationRule b\) spec\.subsets\[0\]\.lables: unknown field/);
    }
    expect(parseManifest(text.split('---')[0]!, 'a.yaml')).to.have.length(1);
  });
  it('reports YAML syntax errors with the document', () => {
    expect(() => parseManifest('a: [1,\n', 'x.yaml')).to.throw(/x\.yaml#1: YAML/);
  });
});
