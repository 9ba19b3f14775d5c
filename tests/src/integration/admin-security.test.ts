// weftd's admin API is HTTPS and needs the admin credential (issue 8: "admin API calls without or with
// a wrong credential"), against real weftd processes: every route but /healthz and /readyz answers 401
// without the token or with a wrong one and does nothing; weftctl finds the credential as documented
// (--credentials, WEFT_CREDENTIALS, .weft-data/admin.cred here) and says what is missing or wrong;
// admin.cred keeps its token across restarts, and weftd will not start on one others can read or one
// it cannot parse; weftd's own identity cannot be had with a join token.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminFetch, startWeftd, WEFTCTL_BIN, WEFTD_BIN, type WeftdHandle } from '../support/weftd.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A program run to its end (at most 15 s) with `env` on top of this process's, WEFT_SERVER and WEFT_CREDENTIALS removed. */
function run(bin: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  for (const name of ['WEFT_SERVER', 'WEFT_CREDENTIALS']) if (!opts.env?.[name]) delete env[name];
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: opts.cwd, env, timeout: 15_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const tokenOf = (w: WeftdHandle) => (JSON.parse(readFileSync(w.credentialsFile, 'utf8')) as { token: string }).token;

describe('admin API security: HTTPS and the admin credential', function () {
  this.timeout(60_000);
  /** A weftd whose data dir is `<dir>/.weft-data`, as `npx weftd` run in `dir` makes it. */
  let weftd: WeftdHandle;
  /** Another weftd, with its own CA and credential. */
  let other: WeftdHandle;
  let dir: string;
  /** A directory with no .weft-data in it. */
  let empty: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-admin-security-'));
    empty = mkdtempSync(join(tmpdir(), 'weft-admin-security-empty-'));
    [weftd, other] = await Promise.all([startWeftd({ dataDir: join(dir, '.weft-data') }), startWeftd()]);
  });
  after(async () => {
    await Promise.all([weftd?.stop(), other?.stop()]);
    rmSync(dir, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  });

  it('answers 401 with WWW-Authenticate and a JSON error naming the credential on every route but the health checks, and does nothing', async () => {
    const json = { 'content-type': 'application/json' };
    const dr = '{"resources":[{"object":{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"x","namespace":"sec"},"spec":{"host":"x"}}}]}';
    const calls: [string, string, string?][] = [
      ['GET', '/v1/services'],
      ['GET', '/v1/version'],
      ['GET', '/v1/resources/dr'],
      ['GET', '/v1/sessions'],
      ['GET', '/v1/tokens'],
      ['GET', '/v1/ca'],
      ['POST', '/v1/apply', dr],
      ['POST', '/v1/delete', dr],
      ['POST', '/v1/tokens', '{"namespace":"sec","serviceAccount":"intruder"}'],
      ['POST', '/v1/ca/rotate', '{}'],
      ['GET', '/v1/no-such-route'],
      ['GET', '/'],
    ];
    const caBefore = await (await adminFetch(`${weftd.adminUrl}/v1/ca`)).text();
    for (const [method, path, body] of calls) {
      const res = await adminFetch(`${weftd.adminUrl}${path}`, { method, body, headers: body ? json : {}, credential: false });
      expect(res.status, `${method} ${path}`).to.equal(401);
      expect(res.headers.get('www-authenticate'), `${method} ${path}`).to.equal('Bearer realm="weftd"');
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      const { error } = (await res.json()) as { error: string };
      expect(error, `${method} ${path}`).to.contain('carries no admin credential').and.contain('Authorization: Bearer').and.contain('admin.cred');
    }
    // Nothing of it happened: no resource, no token, no rotation.
    expect(((await (await adminFetch(`${weftd.adminUrl}/v1/resources/dr?namespace=sec`)).json()) as { items: unknown[] }).items).to.deep.equal([]);
    expect(((await (await adminFetch(`${weftd.adminUrl}/v1/tokens`)).json()) as { tokens: unknown[] }).tokens).to.deep.equal([]);
    expect(await (await adminFetch(`${weftd.adminUrl}/v1/ca`)).text()).to.equal(caBefore);
  });

  it("answers 401 to a wrong credential (another weftd's token, a made-up one, not Bearer) and 200 to the right one", async () => {
    const services = `${weftd.adminUrl}/v1/services`;
    for (const token of [tokenOf(other), `weftadm1.${'A'.repeat(43)}`, `${tokenOf(weftd)}x`]) {
      const res = await adminFetch(services, { credential: token });
      expect(res.status).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.equal('Bearer realm="weftd"');
      expect(((await res.json()) as { error: string }).error).to.contain("the admin credential is not this weftd's (wrong token)");
    }
    const basic = await adminFetch(services, { headers: { authorization: `Basic ${Buffer.from(`admin:${tokenOf(weftd)}`).toString('base64')}` } });
    expect(basic.status).to.equal(401);
    expect(((await basic.json()) as { error: string }).error).to.contain('not "Bearer <token>"');
    const right = await adminFetch(services, { credential: tokenOf(weftd) });
    expect(right.status).to.equal(200);
    expect(await right.json()).to.deep.equal({ services: [] });
  });

  it('keeps /healthz and /readyz open without a credential', async () => {
    const health = await adminFetch(`${weftd.adminUrl}/healthz`, { credential: false });
    expect([health.status, await health.text()]).to.deep.equal([200, 'ok']);
    const ready = await adminFetch(`${weftd.adminUrl}/readyz`, { credential: false });
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.include({ ready: true });
  });

  it('is HTTPS only: plain HTTP to the admin port gets no HTTP answer, and weftctl refuses an http:// URL saying to use https://', async () => {
    const plainUrl = weftd.adminUrl.replace('https:', 'http:');
    const plain = await new Promise<string>((resolve) => {
      const req = httpGet(`${plainUrl}/healthz`, { timeout: 10_000 }, (res) => {
        res.resume();
        resolve(`HTTP ${res.statusCode}`);
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
      req.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
    });
    expect(plain).to.match(/^error (ECONNRESET|EPIPE)$/);
    const ctl = await run(WEFTCTL_BIN, ['--server', plainUrl, '--credentials', weftd.credentialsFile, 'get', 'vs']);
    expect(ctl.code).to.equal(2);
    expect(ctl.stderr).to.contain(`--server "${plainUrl}": weftd's admin API is HTTPS; use ${weftd.adminUrl}`);
    const fromEnv = await run(WEFTCTL_BIN, ['get', 'vs'], { env: { WEFT_SERVER: plainUrl, WEFT_CREDENTIALS: weftd.credentialsFile } });
    expect(fromEnv.code).to.equal(2);
    expect(fromEnv.stderr).to.contain(`WEFT_SERVER "${plainUrl}": weftd's admin API is HTTPS; use ${weftd.adminUrl}`);
    expect((await adminFetch(`${weftd.adminUrl}/healthz`)).status).to.equal(200);
  });

  it('weftctl with no credential anywhere exits 2 naming --credentials, WEFT_CREDENTIALS and .weft-data/admin.cred', async () => {
    const none = await run(WEFTCTL_BIN, ['--server', weftd.adminUrl, 'get', 'vs'], { cwd: empty });
    expect(none.code).to.equal(2);
    expect(none.stdout).to.equal('');
    expect(none.stderr).to.contain('no admin credential').and.contain('--credentials FILE').and.contain('WEFT_CREDENTIALS').and.contain('.weft-data/admin.cred');
    expect(none.stderr).to.contain(empty);
    // A credential named but not there: the name and where it came from.
    const missing = join(empty, 'nowhere.cred');
    const fromEnv = await run(WEFTCTL_BIN, ['--server', weftd.adminUrl, 'get', 'vs'], { cwd: empty, env: { WEFT_CREDENTIALS: missing } });
    expect(fromEnv.code).to.equal(2);
    expect(fromEnv.stderr).to.contain(`WEFT_CREDENTIALS: ${missing}: cannot read the admin credential (no such file)`);
    const fromFlag = await run(WEFTCTL_BIN, ['--server', weftd.adminUrl, '--credentials', missing, 'get', 'vs'], { cwd: empty });
    expect(fromFlag.code).to.equal(2);
    expect(fromFlag.stderr).to.contain(`--credentials: ${missing}: cannot read the admin credential (no such file)`);
  });

  it('weftctl reads .weft-data/admin.cred of its working directory with no flag, else WEFT_CREDENTIALS, and --credentials before both', async () => {
    const here = await run(WEFTCTL_BIN, ['services'], { cwd: dir, env: { WEFT_SERVER: weftd.adminUrl } });
    expect(here).to.deep.equal({ code: 0, stdout: '', stderr: 'No services registered.\n' });
    const fromEnv = await run(WEFTCTL_BIN, ['services'], { cwd: empty, env: { WEFT_SERVER: weftd.adminUrl, WEFT_CREDENTIALS: weftd.credentialsFile } });
    expect(fromEnv.code, fromEnv.stderr).to.equal(0);
    // The flag wins over a WEFT_CREDENTIALS of another weftd, and over .weft-data/admin.cred here.
    const flag = await run(WEFTCTL_BIN, ['--server', other.adminUrl, '--credentials', other.credentialsFile, 'services'], { cwd: dir, env: { WEFT_CREDENTIALS: weftd.credentialsFile } });
    expect(flag.code, flag.stderr).to.equal(0);
  });

  it("weftctl with another weftd's credential says weftd's certificate is not signed by a root of that credential", async () => {
    const res = await run(WEFTCTL_BIN, ['--server', weftd.adminUrl, '--credentials', other.credentialsFile, 'get', 'vs']);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.contain(`cannot trust ${weftd.adminUrl}: its certificate is not signed by a root of the admin credential (--credentials ${other.credentialsFile})`);
    expect(res.stderr).to.contain("The credential is another weftd's").and.not.match(/\n\s+at /);
    // Found in the working directory, the credential is named by its path.
    const here = await run(WEFTCTL_BIN, ['--server', other.adminUrl, 'get', 'vs'], { cwd: dir });
    expect(here.code).to.equal(1);
    expect(here.stderr).to.contain('not signed by a root of the admin credential (.weft-data/admin.cred)');
  });

  it("refuses a join token for weftd's own identity (istio-system/weftd) with 400, and makes others in istio-system", async () => {
    const post = (serviceAccount: string) =>
      adminFetch(`${weftd.adminUrl}/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ namespace: 'istio-system', serviceAccount }) });
    const refused = await post('weftd');
    expect(refused.status).to.equal(400);
    expect(((await refused.json()) as { error: string }).error).to.contain("is weftd's own identity; no join token can be made for it");
    const ctl = await run(WEFTCTL_BIN, ['--server', weftd.adminUrl, '--credentials', weftd.credentialsFile, 'token', 'create', '--namespace', 'istio-system', '--service-account', 'weftd']);
    expect(ctl.code).to.equal(1);
    expect(ctl.stdout).to.equal('');
    expect(ctl.stderr).to.contain("weftd's own identity");
    expect((await post('ingress')).status).to.equal(200);
    const listed = ((await (await adminFetch(`${weftd.adminUrl}/v1/tokens`)).json()) as { tokens: { serviceAccount: string }[] }).tokens;
    expect(listed.map((t) => t.serviceAccount)).to.deep.equal(['ingress']);
  });

  it('keeps admin.cred (mode 0600) byte for byte across a restart, and will not start on one others can read or one it cannot parse', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'weft-admin-cred-restart-'));
    let running: WeftdHandle | undefined;
    try {
      running = await startWeftd({ dataDir });
      const path = running.credentialsFile;
      expect(running.output()).to.contain(`admin credential written to ${path}`);
      expect(statSync(path).mode & 0o777).to.equal(0o600);
      const first = readFileSync(path, 'utf8');
      const token = tokenOf(running);
      await running.stop();

      running = await startWeftd({ dataDir });
      expect(running.output()).to.contain(`admin credential in ${path}`).and.not.contain('written to');
      expect(readFileSync(path, 'utf8')).to.equal(first);
      expect(statSync(path).mode & 0o777).to.equal(0o600);
      expect((await adminFetch(`${running.adminUrl}/v1/services`, { credential: token })).status).to.equal(200);
      await running.stop();
      running = undefined;

      const start = () => run(WEFTD_BIN, ['--data-dir', dataDir, '--port', '0', '--admin-port', '0']);
      chmodSync(path, 0o644);
      const readable = await start();
      expect(readable.code).to.equal(1);
      expect(readable.stderr).to.contain(`${path}: mode 0644 lets others read the admin credential; chmod 600 it`);
      expect(readable.stdout).not.to.contain('listening');
      expect(readFileSync(path, 'utf8')).to.equal(first);
      expect(statSync(path).mode & 0o777).to.equal(0o644);

      chmodSync(path, 0o600);
      writeFileSync(path, first.slice(0, 40));
      const damaged = await start();
      expect(damaged.code).to.equal(1);
      expect(damaged.stderr).to.contain(`${path}: not an admin credential (not JSON`).and.contain('delete it and restart weftd');
      expect(readFileSync(path, 'utf8')).to.equal(first.slice(0, 40));
    } finally {
      await running?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
