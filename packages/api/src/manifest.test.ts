import { expect } from 'chai';
import { readYamlDocuments, type YamlIssue } from './manifest.js';

const firstIssue = (text: string): YamlIssue => readYamlDocuments(text, 'x.yaml').issues[0]!;

describe('readYamlDocuments: syntax errors and input that is not a manifest', () => {
  it('gives a syntax error the line it is on with a caret under the column, and counts the errors after it', () => {
    const { issues } = readYamlDocuments('kind: DestinationRule\nspec:\n  subsets: - name: v1\n', 'x.yaml');
    expect(issues[0]).to.deep.equal({
      path: 'x.yaml#1',
      message: 'YAML: Unexpected block-seq-ind on same line with key at line 3, column 12',
      excerpt: '  subsets: - name: v1\n           ^',
    });
    expect(issues.slice(1).map((i) => i.message)).to.satisfy((m: string[]) => m.length === 0 || (m.length === 1 && /more syntax errors? after it/.test(m[0]!)));
  });

  it('keeps the caret in line across tabs, control characters and CRLF, and cuts a long line around the column', () => {
    expect(firstIssue('a: 1\r\nmetadata:\r\n\tname: x\r\n').excerpt).to.equal(' name: x\n^');
    expect(firstIssue('key\u0007: [1\n').excerpt).to.equal(`key\\u0007: [1\n${' '.repeat(13)}^`);
    const long = `${'a'.repeat(200)}: [1, 2\nb: 1\n`;
    const { excerpt } = firstIssue(`x: 1\n${long}`);
    for (const line of excerpt!.split('\n')) expect(line.length).to.be.at.most(82);
  });

  it('shows the last line that is not blank when the input ends inside something', () => {
    expect(firstIssue('kind: "DestinationRule\n\n\n').excerpt).to.equal('kind: "DestinationRule\n                      ^');
  });

  it('names a NUL character (a binary file) once, instead of a cascade of syntax errors', () => {
    const { documents, issues } = readYamlDocuments('\u007fELF\u0002\u0001\u0000\u0000: x\n: y\n', 'ls');
    expect(documents).to.deep.equal([]);
    expect(issues).to.deep.equal([{ path: 'ls', message: 'not YAML or JSON text: it holds a NUL character (line 1), as a binary file does; nothing of it was read' }]);
  });

  it('names a document that is a bare string or number, not "must be a map"', () => {
    const { documents, issues } = readYamlDocuments('Some notes about this directory.\n---\n42\n---\nkind: x\n', 'notes.yaml');
    expect(documents.map((d) => d.source)).to.deep.equal(['notes.yaml#3']);
    expect(issues.map((i) => [i.path, i.message.split(':')[0]])).to.deep.equal([
      ['notes.yaml#1', 'not a resource but a bare string ("Some notes about this directory.")'],
      ['notes.yaml#2', 'not a resource but a bare number ("42")'],
    ]);
  });
});
