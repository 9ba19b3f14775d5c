// What weftctl prints is safe for the operator's terminal whatever weftd holds (here: a store written
// before hosts and names were validated, with ANSI escapes in them), and weftctl and weftd stop (or
// carry on) quietly when the reader of their output goes away (`weftctl get dr | head -1`).
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { FileStore } from '@weft/registry';
import { adminFetch, rememberWeftd, startWeftd, WEFTCTL_BIN, WEFTD_BIN, weftctlTarget, type WeftdHandle } from '../support/weftd.js';

/** Any character that could drive a terminal, other than newline and tab. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const EVIL_HOST = '\u001b[31mred\u001b]0;owned\u0007\u009b2J\u202eevil';
const EVIL_NAME = 'evil\u001b[2J';

interface CtlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** weftctl against the weftd at `server`, with its credential. */
function weftctl(server: string, args: string[]): Promise<CtlResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [WEFTCTL_BIN, ...weftctlTarget(server), ...args], { timeout: 15_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs a program whose stdout (or stderr) reader is gone before it writes; its exit and its other stream. */
function withClosedOutput(args: string[], closed: 'stdout' | 'stderr'): Promise<{ code: number | null; signal: string | null; other: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child[closed].destroy();
    let other = '';
    child[closed === 'stdout' ? 'stderr' : 'stdout'].on('data', (d: Buffer) => (other += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, other });
    });
  });
}

/** What an older weftd may have stored: names and hosts nobody validated. */
async function storeUnvalidated(dataDir: string): Promise<void> {
  const store = await FileStore.open(dataDir);
  try {
    await store.commit((view) => ({
      mutation: {
        puts: [
          {
            kind: 'DestinationRule',
            namespace: 'default',
            name: EVIL_NAME,
            apiVersion: 'networking.istio.io/v1',
            resourceVersion: view.nextRevision,
            createdMs: Date.now(),
            object: {
              apiVersion: 'networking.istio.io/v1',
              kind: 'DestinationRule',
              metadata: { name: EVIL_NAME, namespace: 'default', annotations: { note: 'line one\nline two \u001b[5m' } },
              spec: { host: EVIL_HOST },
            },
          },
        ],
        deletes: [],
      },
      value: undefined,
    }));
  } finally {
    await store.close();
  }
}

describe('weftctl output: terminal-safe text and broken pipes', function () {
  this.timeout(30_000);
  let weftd: WeftdHandle;
  let dataDir: string;
  let dir: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'weftctl-output-data-'));
    dir = mkdtempSync(join(tmpdir(), 'weftctl-output-'));
    await storeUnvalidated(dataDir);
    weftd = await startWeftd({ dataDir });
  });

  after(async () => {
    await weftd.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows escapes from weftd visibly in the table, never raw', async () => {
    const res = await weftctl(weftd.adminUrl, ['get', 'dr']);
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout).not.to.match(RAW_CONTROL);
    expect(res.stdout).to.contain('evil\\x1b[2J').and.contain('\\x1b[31mred\\x1b]0;owned\\x07\\x9b2J\\u202eevil');
    expect(res.stdout.trim().split('\n')).to.have.length(2);
  });

  it('writes -o json and -o yaml with no raw control character, reading back to what weftd holds', async () => {
    const api = (await (await adminFetch(`${weftd.adminUrl}/v1/resources/dr`)).json()) as { items: unknown[] };
    const json = await weftctl(weftd.adminUrl, ['get', 'dr', '-o', 'json']);
    expect(json.stdout).not.to.match(RAW_CONTROL);
    expect((JSON.parse(json.stdout) as { items: unknown[] }).items).to.deep.equal(api.items);
    const yaml = await weftctl(weftd.adminUrl, ['get', 'dr', '-o', 'yaml']);
    expect(yaml.stdout).not.to.match(RAW_CONTROL);
    expect(parseAllDocuments(yaml.stdout).map((d) => d.toJS())).to.deep.equal(api.items);
  });

  it('shows escapes visibly in error messages, from weftd and from local files', async () => {
    const file = join(dir, 'evil.yaml');
    writeFileSync(file, `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: "x\\e[31m"}\nspec: {hosts: ["\\e]0;t\\a"]}\n`);
    const local = await weftctl(weftd.adminUrl, ['apply', '-f', file]);
    expect(local.code).to.equal(1);
    expect(local.stderr).not.to.match(RAW_CONTROL);
    expect(local.stderr).to.contain('\\u001b');
    // delete -f does not validate locally: weftd's 404 names the resource with its raw name.
    const remote = await weftctl(weftd.adminUrl, ['delete', '-f', file]);
    expect(remote.code).to.equal(1);
    expect(remote.stderr).to.contain('not found').and.contain('x\\x1b[31m');
    expect(remote.stderr).not.to.match(RAW_CONTROL);
  });

  it('refuses a YAML alias bomb and deep nesting in delete -f locally, with a message and no stack trace', async () => {
    let bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    for (let i = 0, prev = 'a'; i < 9; prev = `b${i}`, i++) bomb += `b${i}: &b${i} [${Array(9).fill(`*${prev}`).join(',')}]\n`;
    writeFileSync(join(dir, 'bomb.yaml'), bomb);
    writeFileSync(join(dir, 'deep.yaml'), '['.repeat(100_000));
    for (const [file, problem] of [['bomb.yaml', 'aliases (*name) expand to more than 100 nodes'], ['deep.yaml', 'nested more than 64 levels deep']]) {
      for (const verb of ['apply', 'delete']) {
        const res = await weftctl(weftd.adminUrl, [verb, '-f', join(dir, file!)]);
        expect(res.code, `${verb} ${file}: ${res.stderr}`).to.equal(1);
        expect(res.stderr).to.contain(problem).and.not.match(/\n\s+at /);
      }
    }
  });

  it('exits quietly with status 141 when the reader of its output has gone, on every output path', async () => {
    const cases = [
      ['get', 'dr'],
      ['get', 'dr', '-o', 'yaml'],
      ['get', 'dr', '-o', 'json'],
      ['services', '-o', 'json'],
      ['--help'],
      ['apply', '-f', join(dir, 'ok.yaml'), '--dry-run'],
    ];
    writeFileSync(join(dir, 'ok.yaml'), 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ok}\nspec: {host: ok}\n');
    for (const args of cases) {
      const res = await withClosedOutput([WEFTCTL_BIN, ...weftctlTarget(weftd.adminUrl), ...args], 'stdout');
      expect(res, args.join(' ')).to.deep.equal({ code: 141, signal: null, other: '' });
    }
    // An error message with no one to read it: the same quiet stop.
    const err = await withClosedOutput([WEFTCTL_BIN, ...weftctlTarget(weftd.adminUrl), 'get', 'gateways'], 'stderr');
    expect(err).to.deep.equal({ code: 141, signal: null, other: '' });
  });

  it('exits quietly in a shell pipeline into head -1, with more output than a pipe holds', async () => {
    const resources = Array.from({ length: 400 }, (_, i) => ({
      object: { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: `dr-${i}`, namespace: 'many' }, spec: { host: `host-${i}` } },
    }));
    const applied = await adminFetch(`${weftd.adminUrl}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ resources }) });
    expect(applied.status).to.equal(200);
    const errFile = join(dir, 'pipeline.err');
    const target = weftctlTarget(weftd.adminUrl).map((a) => `"${a}"`).join(' ');
    const script = `"${process.execPath}" "${WEFTCTL_BIN}" ${target} get dr -n many -o yaml 2>"${errFile}" | head -1; echo "status \${PIPESTATUS[0]}"`;
    const out = await new Promise<string>((resolve) => execFile('bash', ['-c', script], { timeout: 15_000 }, (_e, stdout) => resolve(stdout)));
    expect(out).to.match(/^apiVersion: networking\.istio\.io\/v1\nstatus (0|141)\n$/);
    expect(readFileSync(errFile, 'utf8')).to.equal('');
  });

  it('keeps weftd serving when the reader of its stdout has gone', async () => {
    const port = await freePort();
    const data = mkdtempSync(join(tmpdir(), 'weftd-closed-stdout-'));
    let started: ChildProcess | undefined;
    try {
      const child = spawn(process.execPath, [WEFTD_BIN, '--data-dir', data, '--port', '0', '--admin-port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
      started = child;
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // Its address and credential lines went to the closed stdout: the port is known, admin.cred is in `data`.
      rememberWeftd({ adminUrl: `https://127.0.0.1:${port}`, dataDir: data });
      let status = 0;
      for (let i = 0; i < 100 && status !== 200 && child.exitCode === null; i++) {
        status = await adminFetch(`https://127.0.0.1:${port}/v1/services`).then((r) => r.status, () => 0);
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status, stderr).to.equal(200);
      child.kill('SIGTERM');
      expect(await exited, stderr).to.equal(0);
      expect(stderr).not.to.contain('EPIPE');
    } finally {
      if (started && started.exitCode === null && started.signalCode === null) started.kill('SIGKILL');
      rmSync(data, { recursive: true, force: true });
    }
  });
});

/** A port that was free a moment ago (weftd's address lines go to the closed stdout, so it is chosen here). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
