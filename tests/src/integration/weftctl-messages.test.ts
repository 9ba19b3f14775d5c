// What weftctl says when something is wrong, as a new user meets it: pointed at the session port, at
// a server that is down, silent or without TLS, at http://; given a YAML typo, a binary file, an empty file, an
// unreadable file, a manifest too large for one request. Each message says what is wrong and what to do.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminFetch, startWeftd, WEFTCTL_BIN, weftctlTarget, type WeftdHandle } from '../support/weftd.js';

interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** weftctl against the weftd at `server` with its credential, or with `target` (--server, --credentials) as given. */
function weftctl(server: string | string[], args: string[]): Promise<CtlResult> {
  const target = typeof server === 'string' ? weftctlTarget(server) : server;
  return new Promise((resolve) => {
    execFile(process.execPath, [WEFTCTL_BIN, ...target, ...args], { timeout: 20_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const STACK_TRACE = /\n\s+at /;

describe('weftctl messages that say what is wrong', function () {
  this.timeout(60_000);
  let weftd: WeftdHandle;
  let dir: string;
  let server: string;
  const revision = async () => {
    const res = await adminFetch(`${server}/v1/apply?dryRun=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resources":[]}' });
    return ((await res.json()) as { revision: number }).revision;
  };
  const file = (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  before(async () => {
    weftd = await startWeftd();
    server = weftd.adminUrl;
    dir = mkdtempSync(join(tmpdir(), 'weftctl-messages-'));
  });
  after(async () => {
    await weftd.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** --server `url` with this weftd's credential. */
  const at = (url: string) => ['--server', url, '--credentials', weftd.credentialsFile];

  it('says the session port is not the admin API, and where the admin API is', async () => {
    // weftd's certificate is the same on both ports, so TLS passes; the session port speaks only h2.
    const res = await weftctl(at(`https://${weftd.grpcAddress}`), ['get', 'vs']);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.contain("is not weftd's admin API").and.contain('gRPC').and.contain('15000');
    expect(res.stderr).not.to.contain('HPE_INVALID_CONSTANT').and.not.contain('Missing ALPN');
  });

  it('explains a weftd that is down, http:// to the HTTPS API, a server without TLS, and a server that never answers', async () => {
    const down = await weftctl(at('https://127.0.0.1:9'), ['get', 'vs']);
    expect(down.code).to.equal(1);
    expect(down.stderr).to.contain('cannot reach weftd at https://127.0.0.1:9').and.contain('is weftd running?').and.contain('WEFT_SERVER');
    const plainUrl = server.replace('https:', 'http:');
    const plain = await weftctl(at(plainUrl), ['get', 'vs']);
    expect(plain.code).to.equal(2);
    expect(plain.stderr).to.contain(`--server "${plainUrl}": weftd's admin API is HTTPS; use ${server}`);
    const http = createHttpServer((_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = http.address() as { port: number };
      const noTls = await weftctl(at(`https://127.0.0.1:${port}`), ['get', 'vs']);
      expect(noTls.code).to.equal(1);
      expect(noTls.stderr).to.contain(`https://127.0.0.1:${port} does not speak TLS`).and.contain("weftd's admin API is HTTPS");
    } finally {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
    const sockets = new Set<Socket>();
    const silent = createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as { port: number };
      const res = await weftctl(at(`https://127.0.0.1:${port}`), ['get', 'vs', '--request-timeout', '500ms']);
      expect(res.code).to.equal(1);
      expect(res.stderr).to.contain(`no answer from https://127.0.0.1:${port} within 500ms (--request-timeout)`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('shows a YAML syntax error with its line, column and the line with a caret under the column', async () => {
    const bad = file('typo.yaml', 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: r\nspec:\n  host: r\n  subsets: - name: v1\n');
    for (const verb of ['apply', 'delete']) {
      const res = await weftctl(server, [verb, '-f', bad]);
      expect(res.code, res.stderr).to.equal(1);
      const lines = res.stderr.split('\n');
      const at = lines.findIndex((l) => l.includes(`${bad}#1: YAML:`));
      expect(at, res.stderr).to.be.greaterThan(0);
      expect(lines[at]).to.match(/at line 7, column 12$/);
      expect(lines[at + 1]).to.equal('        subsets: - name: v1');
      expect(lines[at + 2]).to.equal('                 ^');
    }
  });

  it('says a binary, UTF-16, non-UTF-8 or plain-text file is not a YAML or JSON manifest', async () => {
    const cases: [string, Buffer | string, string][] = [
      ['binary.yaml', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0x3a, 0x20, 0x0a]), 'is not YAML or JSON text: it holds NUL bytes (the first at byte 6), as a binary file does; give -f a manifest'],
      ['utf16.yaml', Buffer.from('\ufeffkind: DestinationRule\n', 'utf16le'), 'is not YAML or JSON text: it is UTF-16; save it as UTF-8'],
      ['latin1.yaml', Buffer.from('kind: DestinationRule\nmetadata: {name: caf\xe9}\n', 'latin1'), 'is not YAML or JSON text: it is not valid UTF-8 (line 2); save it as UTF-8'],
    ];
    const before = await revision();
    for (const [name, content, message] of cases) {
      const path = file(name, content);
      for (const verb of ['apply', 'delete']) {
        const res = await weftctl(server, [verb, '-f', path]);
        expect(res.code, `${verb} ${name}`).to.equal(1);
        expect(res.stderr, `${verb} ${name}`).to.equal(`error: ${path} ${message}\n`);
      }
    }
    const prose = file('README.yaml', 'This directory holds the rules of the reviews service.\n');
    const res = await weftctl(server, ['apply', '-f', prose]);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.contain(`${prose}#1: not a resource but a bare string ("This directory holds`).and.not.contain('must be a map');
    expect(await revision()).to.equal(before);
  });

  it('says "no resources found" (exit 1, not a usage error) for empty input', async () => {
    const empty = file('empty.yaml', '');
    const comments = file('comments.yaml', '# nothing yet\n---\n---\n');
    for (const verb of ['apply', 'delete']) {
      const res = await weftctl(server, [verb, '-f', empty, '-f', comments]);
      expect(res).to.deep.equal({ code: 1, stdout: '', stderr: `error: no resources found in ${empty}, ${comments}\n` });
    }
  });

  it('names a file it cannot read instead of crashing, and skips subdirectories of a -f directory', async () => {
    const manifests = join(dir, 'manifests');
    mkdirSync(manifests);
    mkdirSync(join(manifests, 'nested.yaml'));
    writeFileSync(join(manifests, 'ok.yaml'), 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ok, namespace: unread}\nspec: {host: ok}\n');
    const skipped = await weftctl(server, ['apply', '-f', manifests, '--dry-run']);
    expect(skipped).to.deep.equal({ code: 0, stdout: 'destinationrule.networking.istio.io/ok created (dry run)\n', stderr: '' });
    symlinkSync(join(dir, 'does-not-exist.yaml'), join(manifests, 'zz-dangling.yaml'));
    const res = await weftctl(server, ['apply', '-f', manifests]);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.equal(`error: ${join(manifests, 'zz-dangling.yaml')}: cannot read it: no such file (a dangling symbolic link?)\n`);
    expect(res.stderr).not.to.match(STACK_TRACE);
  });

  it('names the files, their sizes and the limit when a batch is too large for one request, and says to split it', async () => {
    const big = (prefix: string) => {
      let text = '';
      for (let i = 0; i < 12; i++) {
        text += `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: ${prefix}-${i}\n  annotations:\n    note: ${'x'.repeat(220_000)}\nspec:\n  host: h${i}\n---\n`;
      }
      return file(`${prefix}.yaml`, text);
    };
    const [one, two] = [big('big-one'), big('big-two')];
    const before = await revision();
    const res = await weftctl(server, ['apply', '-f', one, '-f', two]);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.contain('too large to send').and.contain('at most 4 MiB (4194304 bytes, MAX_ADMIN_BODY_BYTES)').and.contain('nothing was sent');
    expect(res.stderr).to.contain(`  ${one}: 2.5 MiB`).and.contain(`  ${two}: 2.5 MiB`);
    expect(res.stderr).to.contain('apply the files in several calls');
    expect(await revision()).to.equal(before);
    // Each file alone fits.
    expect((await weftctl(server, ['apply', '-f', one, '--dry-run'])).code).to.equal(0);
  });

  it('answers the habits of a kubectl user: a URL for -f, a file named twice, create and describe, a bad WEFT_SERVER', async () => {
    const url = await weftctl(server, ['apply', '-f', 'https://example.com/rules.yaml']);
    expect(url).to.deep.equal({ code: 1, stdout: '', stderr: 'error: https://example.com/rules.yaml: weftctl reads local files only; download it first (e.g. curl -fsSLO https://example.com/rules.yaml)\n' });
    const manifests = join(dir, 'twice');
    mkdirSync(manifests);
    const rule = file('twice/rule.yaml', 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: twice}\nspec: {host: twice}\n');
    const twice = await weftctl(server, ['apply', '-f', rule, '-f', manifests, '--dry-run']);
    expect(twice).to.deep.equal({ code: 0, stdout: 'destinationrule.networking.istio.io/twice created (dry run)\n', stderr: '' });
    const create = await weftctl(server, ['create', '-f', rule]);
    expect(create.code).to.equal(2);
    expect(create.stderr).to.contain('unknown command "create" (apply creates and updates)');
    expect((await weftctl(server, ['describe', 'vs', 'x'])).stderr).to.contain('get NAME -o yaml');
    const env = await new Promise<CtlResult>((resolve) =>
      execFile(process.execPath, [WEFTCTL_BIN, 'get', 'vs'], { timeout: 15_000, env: { ...process.env, WEFT_SERVER: 'localhost:15000' } }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(env.code).to.equal(2);
    expect(env.stderr).to.contain('WEFT_SERVER "localhost:15000" is not an https:// URL');
  });

  it('checks -n locally, takes -n before the command, and has a help command', async () => {
    const badNs = await weftctl(server, ['get', 'vs', '-n', 'Bad_NS']);
    expect(badNs.code).to.equal(2);
    expect(badNs.stderr).to.contain('-n "Bad_NS" is not a valid namespace');
    const before = await weftctl(server, ['-n', 'somewhere', 'get', 'vs']);
    expect(before).to.deep.equal({ code: 0, stdout: '', stderr: 'No resources found in somewhere namespace.\n' });
    const help = await weftctl(server, ['help', 'delete']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.contain('--ignore-not-found');
  });
});
