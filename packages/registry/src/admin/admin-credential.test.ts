// weftd's admin credential file: made once when there is none, kept (same token) across restarts with
// its roots brought up to date, and never replaced behind the operator's back: a file that is there but
// damaged, readable by others or not a file stops weftd with a message naming it, and stays as it was.
import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority } from '@weft/ca';
import { ADMIN_CREDENTIAL_FILE, AdminCredentialFile, parseAdminCredential, readAdminCredential } from './admin-credential.js';

describe('AdminCredentialFile', () => {
  const rootA = CertificateAuthority.createRoot().chain[0]!.pem;
  const rootB = CertificateAuthority.createRoot().chain[0]!.pem;
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-admin-cred-'));
    path = join(dir, ADMIN_CREDENTIAL_FILE);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** open's error message, or a failure when it opened. */
  async function refusal(dataDir = dir): Promise<string> {
    const opened = await AdminCredentialFile.open(dataDir, rootA).then(
      () => undefined,
      (e: Error) => e.message,
    );
    if (opened === undefined) throw new Error('open accepted the file');
    return opened;
  }

  it('writes a new credential (mode 0600) when there is none, and checks requests against its token', async () => {
    const { file, created } = await AdminCredentialFile.open(dir, rootA);
    expect(created).to.equal(true);
    expect(file.path).to.equal(path);
    expect(statSync(path).mode & 0o777).to.equal(0o600);
    const cred = await readAdminCredential(path);
    expect(cred.caPem).to.equal(rootA);
    expect(cred.token).to.match(/^weftadm1\.[A-Za-z0-9_-]{43}$/);
    expect(file.check(`Bearer ${cred.token}`)).to.equal(undefined);
    expect(file.check(undefined)).to.contain('carries no admin credential').and.contain('WEFT_CREDENTIALS');
    expect(file.check(`Bearer ${cred.token}x`)).to.contain('wrong token');
    expect(file.check(`Basic ${cred.token}`)).to.contain('not "Bearer <token>"');
  });

  it('keeps the token across a reopen, and rewrites the roots when they changed', async () => {
    await AdminCredentialFile.open(dir, rootA);
    const before = await readAdminCredential(path);
    const same = await AdminCredentialFile.open(dir, rootA);
    expect(same.created).to.equal(false);
    expect(readFileSync(path, 'utf8')).to.equal(JSON.stringify({ kind: 'WeftAdminCredential', version: 1, token: before.token, caPem: rootA }, null, 2) + '\n');
    const rotated = await AdminCredentialFile.open(dir, rootA + rootB);
    expect(rotated.created).to.equal(false);
    expect(await readAdminCredential(path)).to.deep.equal({ token: before.token, caPem: rootA + rootB });
    expect(statSync(path).mode & 0o777).to.equal(0o600);
    expect(rotated.file.check(`Bearer ${before.token}`)).to.equal(undefined);
  });

  it('refuses a damaged file, naming it, and leaves it as it was', async () => {
    for (const damaged of ['{"kind": "WeftAdminCredential", "vers', '', '{"kind": "WeftAdminCredential", "version": 1, "token": "short", "caPem": ""}']) {
      writeFileSync(path, damaged, { mode: 0o600 });
      expect(await refusal()).to.contain(path).and.contain('delete it and restart weftd');
      expect(readFileSync(path, 'utf8')).to.equal(damaged);
    }
  });

  it('refuses a damaged file even where the path reads like a missing file (no message matching)', async () => {
    const oddDir = join(dir, 'no such file');
    mkdirSync(oddDir);
    writeFileSync(join(oddDir, ADMIN_CREDENTIAL_FILE), 'not json', { mode: 0o600 });
    expect(await refusal(oddDir)).to.contain('not an admin credential (not JSON');
    expect(readFileSync(join(oddDir, ADMIN_CREDENTIAL_FILE), 'utf8')).to.equal('not json');
  });

  it('refuses a credential others can read, naming the file and its mode, and leaves it as it was', async () => {
    await AdminCredentialFile.open(dir, rootA);
    const text = readFileSync(path, 'utf8');
    chmodSync(path, 0o644);
    expect(await refusal()).to.contain(path).and.contain('mode 0644').and.contain('chmod 600');
    expect(readFileSync(path, 'utf8')).to.equal(text);
    expect(statSync(path).mode & 0o777).to.equal(0o644);
  });

  it('refuses a directory where the credential should be', async () => {
    mkdirSync(path, { mode: 0o700 });
    expect(await refusal()).to.contain(path).and.contain('not a regular file');
  });
});

describe('readAdminCredential (weftctl)', () => {
  it('names the file and says to take it again when it is not a credential', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-admin-cred-'));
    try {
      const path = join(dir, 'copy.cred');
      writeFileSync(path, '{}');
      const err = await readAdminCredential(path).then(() => undefined, (e: Error) => e.message);
      expect(err).to.contain(path).and.contain('not a weft admin credential').and.contain('again');
      const missing = await readAdminCredential(join(dir, 'none.cred')).then(() => undefined, (e: Error) => e.message);
      expect(missing).to.contain(join(dir, 'none.cred')).and.contain('no such file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses the fields it needs and names the one that is wrong', () => {
    expect(() => parseAdminCredential('{"kind":"WeftAdminCredential","version":1,"token":"weftadm1.x","caPem":""}', 'src')).to.throw('src: token:');
  });
});
