#!/usr/bin/env node
// `npm run pack [-- DIR]`: `npm pack` of @weft/api, @weft/ca, @weft/registry and @weft/sdk into DIR (default
// ./weft-packages), so another project can `npm install` them before they are on the registry.
// Packs what is built: `npm run pack` builds first (run directly, build first yourself).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PACKAGES = ['packages/api', 'packages/ca', 'packages/registry', 'packages/sdk'];

const OUTPUT = /\.(js|js\.map|d\.ts|d\.ts\.map)$/;

/**
 * Removes what tsc -b leaves behind in dist/ when a source is deleted or renamed (it never deletes
 * outputs), so the tarball holds the build of today's sources only. Returns the removed paths.
 */
function pruneStaleOutputs(pkgDir) {
  const dist = join(pkgDir, 'dist');
  if (!existsSync(join(dist, 'index.js'))) throw new Error(`${relative(ROOT, dist)}/index.js is missing: run 'npm run build' first`);
  const removed = [];
  for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !OUTPUT.test(entry.name)) continue;
    const output = join(entry.parentPath ?? entry.path, entry.name);
    const source = join(pkgDir, 'src', relative(dist, output)).replace(OUTPUT, '.ts');
    if (existsSync(source)) continue;
    rmSync(output);
    removed.push(relative(ROOT, output));
  }
  return removed;
}

function npm(args) {
  // Under `npm run`, use the npm that runs us; directly, the one on PATH.
  const execPath = process.env.npm_execpath;
  const [cmd, cmdArgs] = execPath && execPath.endsWith('.js') ? [process.execPath, [execPath, ...args]] : ['npm', args];
  const r = spawnSync(cmd, cmdArgs, { cwd: ROOT, encoding: 'utf8' });
  if (r.error) throw new Error(`could not run npm: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} exited ${r.status}:\n${r.stderr.trim()}`);
  return r.stdout;
}

function main() {
  const args = process.argv.slice(2);
  if (args.length > 1 || args[0]?.startsWith('-')) {
    console.error('usage: node scripts/pack.mjs [DIR]   (default DIR: ./weft-packages)');
    return 2;
  }
  const removed = PACKAGES.flatMap((p) => pruneStaleOutputs(join(ROOT, p)));
  if (removed.length) console.log(`Removed ${removed.length} build output(s) whose source is gone:\n  ${removed.join('\n  ')}`);
  const dest = resolve(args[0] ?? 'weft-packages');
  mkdirSync(dest, { recursive: true });
  const packed = JSON.parse(npm(['pack', ...PACKAGES.flatMap((p) => ['-w', p]), '--pack-destination', dest, '--json']));
  const tarballs = packed.map((p) => join(dest, p.filename));
  console.log(`Packed into ${dest}:`);
  for (const p of packed) console.log(`  ${p.filename}  (${p.name}@${p.version}, ${p.files.length} files)`);
  // All four in one command: npm finds @weft/api and @weft/ca (dependencies of the others) only among these tarballs.
  console.log(`\nIn your own project:\n  npm install ${tarballs.join(' ')}`);
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(`pack: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
