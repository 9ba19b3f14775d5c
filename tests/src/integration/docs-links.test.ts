// The docs a new user reads first link only to what is in the repository, and the data dir they are
// told to create is one that git ignores.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function markdownFiles(): string[] {
  const inDir = (dir: string) => readdirSync(join(REPO_ROOT, dir)).filter((f) => f.endsWith('.md')).map((f) => join(dir, f));
  const readmes = ['packages', 'examples'].flatMap((group) =>
    readdirSync(join(REPO_ROOT, group))
      .map((name) => join(group, name, 'README.md'))
      .filter((f) => existsSync(join(REPO_ROOT, f))),
  );
  return ['README.md', ...inDir('docs'), ...readmes];
}

/** The text outside fenced code blocks and inline code spans, where `[x](y)` is a link. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Inline links and images `[text](target "title")` and reference definitions `[label]: target`. */
function linkTargets(markdown: string): string[] {
  const text = prose(markdown);
  const inline = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const references = [...text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]!);
  return [...inline, ...references];
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]!
      .replace(/`/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Why `target` (linked from `file`) does not resolve, or undefined if it does. */
function brokenLink(file: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // http:, https:, mailto:: not ours to check offline
  const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
  const path = pathPart ? resolve(REPO_ROOT, dirname(file), decodeURIComponent(pathPart)) : join(REPO_ROOT, file);
  const inRepo = relative(REPO_ROOT, path);
  if (inRepo.startsWith('..')) return `points outside the repository (${inRepo})`;
  if (!existsSync(path)) return `${inRepo} does not exist`;
  if (anchor && path.endsWith('.md') && statSync(path).isFile() && !headingAnchors(readFileSync(path, 'utf8')).has(anchor)) {
    return `${inRepo} has no heading with anchor #${anchor}`;
  }
  return undefined;
}

describe('Documentation links', () => {
  it('finds the link forms it checks', () => {
    const md = '[a](docs/x.md) ![i](img.png "t") [b]: ../y.md\n```sh\n[c](not-a-link.md)\n```\n`[d](nor-this.md)`\n[e](https://e.example)';
    expect(linkTargets(md)).to.deep.equal(['docs/x.md', 'img.png', 'https://e.example']);
    expect(linkTargets('[b]: ../y.md')).to.deep.equal(['../y.md']);
    expect([...headingAnchors('## 2. Use Weft in your own app\n## `npm run pack`\n## Ports\n## Ports')]).to.deep.equal([
      '2-use-weft-in-your-own-app',
      'npm-run-pack',
      'ports',
      'ports-1',
    ]);
  });

  it('every relative link in README.md, docs/*.md and the package READMEs resolves to a file in the repository', () => {
    const files = markdownFiles();
    expect(files).to.include.members(['README.md', 'docs/getting-started.md', 'packages/sdk/README.md']);
    const broken: string[] = [];
    let checked = 0;
    for (const file of files) {
      for (const target of linkTargets(readFileSync(join(REPO_ROOT, file), 'utf8'))) {
        checked++;
        const why = brokenLink(file, target);
        if (why) broken.push(`${file}: (${target}) ${why}`);
      }
    }
    expect(broken, `broken links:\n  ${broken.join('\n  ')}`).to.deep.equal([]);
    expect(checked).to.be.greaterThan(10);
  });

  it('.gitignore covers every relative --data-dir the docs tell users to run weftd with', () => {
    const ignored = new Set(
      readFileSync(join(REPO_ROOT, '.gitignore'), 'utf8')
        .split('\n')
        .map((l) => l.trim().replace(/^\//, '').replace(/\/$/, ''))
        .filter((l) => l && !l.startsWith('#')),
    );
    const dirs = new Set<string>();
    for (const file of markdownFiles()) {
      for (const m of readFileSync(join(REPO_ROOT, file), 'utf8').matchAll(/--data-dir[= ]+(?:\.\/)?(\.?[\w-][\w.-]*)/g)) {
        if (m[1] !== 'DIR') dirs.add(m[1]!);
      }
    }
    expect([...dirs]).to.include('weft-data');
    const uncovered = [...dirs].filter((d) => !ignored.has(d));
    expect(uncovered, `add these to .gitignore (the docs create them): ${uncovered.join(', ')}`).to.deep.equal([]);
  });
});
