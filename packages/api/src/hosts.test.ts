import { expect } from 'chai';
import { parseFqdn, toFqdn, compileIstioRegex, parseManifest, isValidationError, readYamlDocuments, MAX_YAML_DEPTH, ValidationError } from './index.js';

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

describe('readYamlDocuments and parseManifest on hostile input', () => {
  const laughs = () => {
    let text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    let prev = 'a';
    for (let i = 0; i < 9; i++) {
      text += `b${i}: &b${i} [${Array(9).fill(`*${prev}`).join(',')}]\n`;
      prev = `b${i}`;
    }
    return text;
  };

  it('reports a billion-laughs document as an issue instead of throwing or expanding it', () => {
    const { documents, issues } = readYamlDocuments(`kind: x\n---\n${laughs()}`, 'bomb.yaml');
    expect(documents).to.have.length(1);
    expect(issues).to.have.length(1);
    expect(issues[0]!.path).to.equal('bomb.yaml#2');
    expect(issues[0]!.message).to.match(/aliases \(\*name\) expand to more than 100 nodes/);
    expect(() => parseManifest(laughs(), 'bomb.yaml')).to.throw(ValidationError, /bomb\.yaml#1: YAML: its aliases/);
  });

  it('refuses nesting deeper than MAX_YAML_DEPTH before composing it, in flow and in block style, in linear time', () => {
    for (const text of ['['.repeat(4_000_000), '- '.repeat(1_000_000) + 'x', '{a: '.repeat(100) + '1' + '}'.repeat(100), Array.from({ length: 70 }, (_, i) => `${' '.repeat(i)}k:`).join('\n') + ' x']) {
      const { documents, issues } = readYamlDocuments(text, 'deep.yaml');
      expect(documents).to.deep.equal([]);
      expect(issues.map((i) => i.path)).to.deep.equal(['deep.yaml#1']);
      expect(issues[0]!.message).to.match(new RegExp(`^YAML: nested more than ${MAX_YAML_DEPTH} levels deep at line \\d+, column \\d+`));
    }
    expect(readYamlDocuments('['.repeat(MAX_YAML_DEPTH - 2) + ']'.repeat(MAX_YAML_DEPTH - 2)).issues).to.deep.equal([]);
  });

  it('keeps a __proto__ key as an own property and reports it as an unknown field', () => {
    const { documents } = readYamlDocuments('__proto__: {polluted: true}\nconstructor: 1\n');
    const value = documents[0]!.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).to.equal(Object.prototype);
    expect(Object.keys(value)).to.deep.equal(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
    const text = 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r}\nspec:\n  host: r\n  __proto__: {host: x}\n  toString: 1\n';
    expect(() => parseManifest(text, 'p.yaml')).to.throw(ValidationError, /p\.yaml#1 \(DestinationRule r\) spec\.__proto__: unknown field[^]*spec\.toString: unknown field/);
  });

  it('names syntax errors with their line, and shows a hostile kind or name escaped', () => {
    expect(readYamlDocuments('a: 1\nb: [1,\n', 'x.yaml').issues[0]!.message).to.match(/^YAML: .* at line \d+, column \d+$/);
    expect(() => parseManifest('kind: "V\\e[31m"\nmetadata: {name: "n\\e]0;t\\a"}\n', 'x.yaml')).to.throw(ValidationError, /x\.yaml#1 \("V\\u001b\[31m" "n\\u001b\]0;t\\u0007"\) kind: /);
  });
});
