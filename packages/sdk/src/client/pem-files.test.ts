import { chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority, createWorkloadKey } from '@weft/ca';
import { expect } from 'chai';
import { PemFiles, pemProblem, TLS_SETTINGS_ERROR } from './pem-files.js';

const WHERE = 'DestinationRule shop/ext: spec.trafficPolicy.tls.caCertificates';

async function failure(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a failure');
}

describe('PemFiles', () => {
  const ca = CertificateAuthority.createRoot();
  const other = CertificateAuthority.createRoot();
  const key = createWorkloadKey();
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'weft-pem-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file once and again only when it changed (written in place or renamed over)', async () => {
    const files = new PemFiles();
    const path = join(dir, 'ca.pem');
    writeFileSync(path, ca.root.pem);
    const first = await files.read(path, 'certificate', WHERE);
    expect(first.pem).to.equal(ca.root.pem);
    expect(await files.read(path, 'certificate', WHERE)).to.equal(first); // unchanged: the cached object
    writeFileSync(path, ca.root.pem + other.root.pem);
    const grown = await files.read(path, 'certificate', WHERE);
    expect(grown.pem).to.equal(ca.root.pem + other.root.pem);
    const next = join(dir, 'ca.pem.new');
    writeFileSync(next, other.root.pem);
    renameSync(next, path);
    const rotated = await files.read(path, 'certificate', WHERE);
    expect(rotated.pem).to.equal(other.root.pem);
    expect(rotated.version).to.not.equal(grown.version);
  });

  it('fails naming the rule, the field and the path: missing, a directory, unreadable, not the PEM it should be', async () => {
    const files = new PemFiles();
    const missing = await failure(files.read(join(dir, 'nope.pem'), 'certificate', WHERE));
    expect(missing.code).to.equal(TLS_SETTINGS_ERROR);
    expect(missing.message).to.equal(`${WHERE}: ${join(dir, 'nope.pem')}: no such file (ENOENT)`);
    expect((await failure(files.read(dir, 'certificate', WHERE))).message).to.equal(`${WHERE}: ${dir}: is not a file`);
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'hello');
    expect((await failure(files.read(garbage, 'certificate', WHERE))).message).to.equal(
      `${WHERE}: ${garbage}: holds no PEM block; it must hold PEM certificates (-----BEGIN CERTIFICATE-----)`,
    );
    const keyInsteadOfCert = join(dir, 'key.pem');
    writeFileSync(keyInsteadOfCert, key.privateKeyPem);
    expect((await failure(files.read(keyInsteadOfCert, 'certificate', WHERE))).message).to.match(/holds no CERTIFICATE block \(found PRIVATE KEY\)/);
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked.pem');
      writeFileSync(locked, ca.root.pem);
      chmodSync(locked, 0o000);
      expect((await failure(files.read(locked, 'certificate', WHERE))).message).to.match(/may not read it \(EACCES\); check its owner and mode$/);
    }
  });

  it('a file that was good and goes bad fails the next read (nothing stale is served)', async () => {
    const files = new PemFiles();
    const path = join(dir, 'ca.pem');
    writeFileSync(path, ca.root.pem);
    await files.read(path, 'certificate', WHERE);
    rmSync(path);
    expect((await failure(files.read(path, 'certificate', WHERE))).message).to.match(/no such file/);
  });
});

describe('pemProblem', () => {
  const ca = CertificateAuthority.createRoot();
  it('knows certificates, keys and CRLs, and says what is wrong with the rest', () => {
    const key = createWorkloadKey().privateKeyPem;
    expect(pemProblem(ca.root.pem, 'certificate')).to.equal(undefined);
    expect(pemProblem(key, 'key')).to.equal(undefined);
    expect(pemProblem(ca.root.pem, 'key')).to.match(/holds no private key Node can read/);
    expect(pemProblem('-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n', 'key')).to.equal('holds an encrypted private key; Weft has no passphrase to open it');
    expect(pemProblem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'certificate')).to.match(/^certificate 1 of the file cannot be parsed/);
    expect(pemProblem(ca.root.pem, 'crl')).to.equal('holds no X509 CRL block (found CERTIFICATE)');
    expect(pemProblem('-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n', 'crl')).to.equal(undefined);
  });
});
