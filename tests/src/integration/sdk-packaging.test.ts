// @weft/api, @weft/registry and @weft/sdk as a user gets them: packed by `scripts/pack.mjs`, installed
// with one `npm install <tarballs>` in a project outside the workspace, with no network (--offline, a
// dead proxy, and a lockfile seeded from the workspace's so npm needs no registry metadata). Then weftd
// and weftctl run from node_modules/.bin (weftd's admin credential for weftctl, a join token made with
// the installed weftctl for the workloads) and the documented snippets run as written: every ```js block
// of docs/getting-started.md and the package READMEs marked `<!-- snippet: NAME.mjs [keeps-running] -->`,
// checked against its own `// prints: ...` comments, and type-checked as TypeScript.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES = ['api', 'ca', 'registry', 'sdk'] as const;
const SNIPPET_DOCS = ['docs/getting-started.md', 'packages/api/README.md', 'packages/sdk/README.md'];
const STEP_TIMEOUT_MS = 30_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

/** Environment for children: no npm_* variables of an enclosing `npm test` (they would point npm at the workspace). */
function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return { ...env, ...extra };
}

const running = new Set<ChildProcess>();

function start(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): { proc: ChildProcess; output: () => string; done: Promise<Run> } {
  const proc = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<Run>((res) => {
    proc.once('error', (err) => {
      out += `\nspawn ${cmd}: ${err.message}`;
    });
    proc.once('close', (code, signal) => {
      running.delete(proc);
      res({ code, signal, out });
    });
  });
  return { proc, output: () => out, done };
}

async function runToEnd(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run> {
  const child = start(cmd, args, opts);
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), opts.timeoutMs ?? STEP_TIMEOUT_MS);
  const result = await child.done;
  clearTimeout(timer);
  return result;
}

async function waitForOutput(child: { output: () => string; proc: ChildProcess }, texts: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!texts.every((t) => child.output().includes(t))) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) throw new Error(`exited before printing ${JSON.stringify(texts)}:\n${child.output()}`);
    if (Date.now() > deadline) throw new Error(`did not print ${JSON.stringify(texts)} within ${timeoutMs} ms:\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface LockEntry {
  version?: string;
  integrity?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  [field: string]: unknown;
}

/**
 * A package-lock.json for a project that depends on the three tarballs, with every third-party package
 * at the version and integrity the workspace's lock (the one `npm ci` filled the cache from) has. npm
 * then installs from the cache alone: without it, --offline fails for want of registry metadata
 * (packuments), which `npm ci` never downloads.
 */
function seedLockfile(tarballs: Record<string, string>): object {
  const workspace = (JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }).packages;
  const parentOf = (dir: string) => (dir.includes('node_modules/') ? dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/'))) : '');
  const at = (dir: string, name: string) => (dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`);
  /** Where Node finds `name` when required from the workspace location `from`. */
  const resolveIn = (from: string, name: string): string => {
    for (let dir = from; ; dir = parentOf(dir)) {
      const key = at(dir, name);
      if (workspace[key] && !workspace[key].link) return key;
      if (!dir) throw new Error(`package-lock.json has no ${name} reachable from ${from || 'the root'}: run npm install at the root`);
    }
  };
  const packages: Record<string, LockEntry> = { '': { name: 'weft-user-app', dependencies: {} } };
  const identity = new Map<string, string>(); // app location → name@integrity, to share one copy
  const queue: Array<[appDir: string, deps: Record<string, string>, from: string]> = [];
  for (const [name, file] of Object.entries(tarballs)) {
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'packages', name.replace('@weft/', ''), 'package.json'), 'utf8')) as LockEntry & { name: string };
    const { name: _name, ...entry } = manifest;
    packages[''].dependencies![name] = `file:${file}`;
    packages[at('', name)] = { version: entry.version, resolved: `file:${file}`, dependencies: entry.dependencies, bin: entry['bin'], engines: entry['engines'], license: entry['license'] };
    queue.push([at('', name), entry.dependencies ?? {}, `packages/${name.replace('@weft/', '')}`]);
  }
  for (let i = 0; i < queue.length; i++) {
    const [appDir, deps, from] = queue[i]!;
    for (const name of Object.keys(deps)) {
      if (name in tarballs) continue;
      const source = resolveIn(from, name);
      const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = workspace[source]!;
      const id = `${name}@${entry.integrity}`;
      // Hoist as high as no other copy of the name is in the way, as npm does.
      let target: string | undefined;
      for (let dir = appDir; ; dir = parentOf(dir)) {
        const placed = identity.get(at(dir, name));
        if (placed === id) {
          target = '';
          break;
        }
        if (placed) break;
        target = at(dir, name);
        if (!dir) break;
      }
      if (target === undefined) throw new Error(`cannot place ${id} under ${appDir}`);
      if (!target) continue;
      identity.set(target, id);
      packages[target] = entry;
      queue.push([target, entry.dependencies ?? {}, source]);
    }
  }
  return { name: 'weft-user-app', lockfileVersion: 3, requires: true, packages };
}

/** Import specifiers and `new URL('…', import.meta.url)` paths of a built module. */
function moduleReferences(js: string): { imports: string[]; urls: string[] } {
  const imports = [
    ...[...js.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gm)].map((m) => m[1]!),
    ...[...js.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)].map((m) => m[1]!),
    ...[...js.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!),
  ];
  const urls = [...js.matchAll(/new URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g)].map((m) => m[1]!);
  return { imports, urls };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name));
}

interface Snippet {
  doc: string;
  file: string;
  keepsRunning: boolean;
  code: string;
  /** The `// prints: …` comments: text its output must contain (a trailing `...` leaves the rest open). */
  prints: string[];
}

function snippets(doc: string): Snippet[] {
  const text = readFileSync(join(REPO_ROOT, doc), 'utf8');
  return [...text.matchAll(/<!-- snippet: (\S+\.mjs)((?:\s+[\w-]+)*)\s*-->\s*\n```js\n([\s\S]*?)\n```/g)].map((m) => ({
    doc,
    file: m[1]!,
    keepsRunning: m[2]!.split(/\s+/).includes('keeps-running'),
    code: `${m[3]!}\n`,
    prints: [...m[3]!.matchAll(/\/\/ prints: (.+)$/gm)].map((p) => p[1]!.trim().replace(/\.\.\.$/, '')),
  }));
}

describe('Packages installed from their tarballs outside the workspace', function () {
  this.timeout(120_000);
  let work: string;
  let app: string;
  let bin: (name: string) => string;

  before(async function () {
    this.timeout(90_000);
    work = mkdtempSync(join(tmpdir(), 'weft-packaging-'));
    app = join(work, 'my-app');
    bin = (name) => join(app, 'node_modules', '.bin', name);
    const tarballDir = join(work, 'weft-packages');
    const packed = await runToEnd(process.execPath, [join(REPO_ROOT, 'scripts/pack.mjs'), tarballDir], { cwd: REPO_ROOT });
    expect(packed.code, packed.out).to.equal(0);
    const tarballs: Record<string, string> = {};
    for (const p of PACKAGES) {
      const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'packages', p, 'package.json'), 'utf8')) as { version: string }).version;
      const file = join(tarballDir, `weft-${p}-${version}.tgz`);
      expect(existsSync(file), `${file} (pack output:\n${packed.out})`).to.equal(true);
      tarballs[`@weft/${p}`] = relative(app, file);
    }
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'weft-user-app', private: true, type: 'module' }, null, 2)}\n`);
    writeFileSync(join(app, 'package-lock.json'), `${JSON.stringify(seedLockfile(tarballs), null, 2)}\n`);
    // The documented command. A dead proxy makes any attempt to reach the network fail loudly.
    const offline = childEnv({ npm_config_proxy: 'http://127.0.0.1:9', npm_config_https_proxy: 'http://127.0.0.1:9' });
    const installed = await runToEnd('npm', ['install', '--offline', '--no-audit', '--no-fund', ...Object.values(tarballs)], { cwd: app, env: offline, timeoutMs: 60_000 });
    expect(installed.code, `npm install of the tarballs failed:\n${installed.out}`).to.equal(0);
    const tree = await runToEnd('npm', ['ls', '--all', '--offline'], { cwd: app, env: offline });
    expect(tree.code, `npm ls finds a broken tree:\n${tree.out}`).to.equal(0);
  });

  after(async () => {
    for (const proc of running) proc.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  for (const p of PACKAGES) {
    it(`@weft/${p} is a complete package: manifest, README, its own files only, no tests`, () => {
      const dir = join(app, 'node_modules', '@weft', p);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        type?: string;
        types?: string;
        main?: string;
        exports?: Record<string, { types?: string; default?: string } | string>;
        files?: string[];
        license?: string;
        engines?: { node?: string };
        bin?: Record<string, string>;
        dependencies?: Record<string, string>;
      };
      expect(manifest.type).to.equal('module');
      const root = manifest.exports?.['.'] as { types?: string; default?: string } | undefined;
      for (const f of [manifest.types, manifest.main, root?.types, root?.default]) {
        expect(f, `package.json of @weft/${p}`).to.be.a('string');
        expect(existsSync(join(dir, f!)), `@weft/${p}: ${f} is not in the package`).to.equal(true);
      }
      expect(manifest.files).to.be.an('array').that.is.not.empty;
      expect(manifest.license).to.equal('Apache-2.0');
      expect(readFileSync(join(dir, 'LICENSE'), 'utf8'), `@weft/${p} ships the licence text`).to.contain('Apache License');
      expect(manifest.engines?.node).to.match(/^>=\s*20/);
      const readme = readFileSync(join(dir, 'README.md'), 'utf8');
      expect(readme).to.match(/^## Install$/m).and.to.contain('npm install').and.to.match(/^## Example$/m);

      const files = filesUnder(dir);
      expect(files.filter((f) => /\.test\.(js|d\.ts|ts)$/.test(f)).map((f) => relative(dir, f)), 'test files in the package').to.deep.equal([]);
      const allowed = new Set([...Object.keys(manifest.dependencies ?? {}), ...builtinModules]);
      const problems: string[] = [];
      for (const file of files.filter((f) => f.endsWith('.js'))) {
        const { imports, urls } = moduleReferences(readFileSync(file, 'utf8'));
        for (const spec of [...imports, ...urls]) {
          if (spec.startsWith('.')) {
            const target = resolve(dirname(file), spec);
            if (relative(dir, target).startsWith('..')) problems.push(`${relative(dir, file)}: ${spec} reaches outside the package`);
            else if (!existsSync(target)) problems.push(`${relative(dir, file)}: ${spec} is not in the package`);
            continue;
          }
          const name = spec.replace(/^node:/, '').split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
          if (!allowed.has(name)) problems.push(`${relative(dir, file)}: imports ${spec}, which is not in its dependencies`);
        }
      }
      expect(problems).to.deep.equal([]);
      if (p === 'api') expect(existsSync(join(dir, 'proto/weft/v1/control_plane.proto'))).to.equal(true);
      if (p !== 'api' && p !== 'ca') expect(manifest.dependencies?.['@weft/api']).to.equal(JSON.parse(readFileSync(join(app, 'node_modules/@weft/api/package.json'), 'utf8')).version);
      for (const [name, target] of Object.entries(manifest.bin ?? {})) {
        accessSync(join(dir, target), constants.X_OK);
        accessSync(bin(name), constants.X_OK);
      }
    });
  }

  it('the snippets type-check as TypeScript against the installed declarations', async () => {
    const dir = join(app, 'typed');
    mkdirSync(dir, { recursive: true });
    const files = SNIPPET_DOCS.flatMap(snippets).map((s) => {
      const file = join(dir, s.file.replace(/\.mjs$/, '.mts'));
      writeFileSync(file, s.code);
      return file;
    });
    const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
    const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--skipLibCheck'];
    const checked = await runToEnd(process.execPath, [tsc, ...flags, ...files], { cwd: app });
    expect(checked.code, `tsc on the snippets:\n${checked.out}`).to.equal(0);
  });

  it('weftd and weftctl run from node_modules/.bin, and the documented snippets run as written', async () => {
    const all = SNIPPET_DOCS.flatMap(snippets);
    const names = all.map((s) => s.file);
    expect(names, 'snippet file names must be unique').to.deep.equal([...new Set(names)]);
    expect(names).to.include.members(['ratings.mjs', 'reviews.mjs', 'hello.mjs', 'check-manifest.mjs']);
    for (const s of all) {
      expect(s.prints, `${s.doc}: ${s.file} has no "// prints:" comment to check`).to.not.be.empty;
      writeFileSync(join(app, s.file), s.code);
    }

    const dataDir = join(work, 'weft-data');
    const weftd = start(bin('weftd'), ['--data-dir', dataDir, '--port', '0', '--admin-port', '0'], { cwd: app });
    await waitForOutput(weftd, ['admin API listening on'], STEP_TIMEOUT_MS);
    const controlPlane = /control plane listening on (\S+:\d+)/.exec(weftd.output())![1]!;
    const adminUrl = /admin API listening on (https:\/\/\S+:\d+)/.exec(weftd.output())![1]!;
    // weftd is not on its default ports nor in ./.weft-data here; the docs' users need neither address
    // nor credential variable. Its admin credential is where weftd says it wrote it.
    const credentials = /admin credential written to (\S+)/.exec(weftd.output())?.[1];
    expect(credentials, weftd.output()).to.equal(join(dataDir, 'admin.cred'));
    const admin = childEnv({ WEFT_SERVER: adminUrl, WEFT_CREDENTIALS: credentials });
    // Every snippet's workload is in namespace default with service account default: one join token,
    // made as the docs say (WEFT_TOKEN=$(weftctl token create ...)), enrols them all.
    const token = await runToEnd(bin('weftctl'), ['token', 'create', '--namespace', 'default', '--service-account', 'default'], { cwd: app, env: admin });
    expect(token.code, token.out).to.equal(0);
    expect(token.out.trim()).to.match(/^weft1\.\S+$/);
    const env = { ...admin, WEFT_CONTROL_PLANE: controlPlane, WEFT_TOKEN: token.out.trim() };

    for (const doc of SNIPPET_DOCS) {
      const background: Array<ReturnType<typeof start>> = [];
      for (const s of all.filter((x) => x.doc === doc)) {
        if (s.keepsRunning) {
          const child = start(process.execPath, [s.file], { cwd: app, env });
          await waitForOutput(child, s.prints, STEP_TIMEOUT_MS);
          background.push(child);
          continue;
        }
        const run = await runToEnd(process.execPath, [s.file], { cwd: app, env });
        expect(run.code, `${doc}: node ${s.file} failed:\n${run.out}`).to.equal(0);
        for (const text of s.prints) expect(run.out, `${doc}: node ${s.file}`).to.contain(text);
      }
      if (doc === 'docs/getting-started.md') {
        const services = await runToEnd(bin('weftctl'), ['services'], { cwd: app, env });
        expect(services.code, services.out).to.equal(0);
        expect(services.out).to.contain('ratings');
      }
      // As the docs say: `kill` (SIGTERM) deregisters and ends the process.
      for (const child of background) {
        child.proc.kill('SIGTERM');
        const timer = setTimeout(() => child.proc.kill('SIGKILL'), 10_000);
        const end = await child.done;
        clearTimeout(timer);
        expect(end.signal === 'SIGTERM' || end.code === 0, `did not end on SIGTERM:\n${end.out}`).to.equal(true);
      }
    }

    weftd.proc.kill('SIGTERM');
    const stopped = await weftd.done;
    expect(stopped.code, stopped.out).to.equal(0);
  });
});
