import { X509Certificate } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { CertificateAuthority } from './authority.js';
import { CaDirectory, TRUST_BUNDLE_FILE } from './ca-directory.js';
import { createCsr } from './csr.js';
import { generatePrivateKey } from './key-algorithm.js';
import { spiffeId } from './spiffe.js';
import { verifyPeer } from './verify-peer.js';
import { isCaError } from './errors.js';
import { tempDir } from './test-support.js';

const id = spiffeId({ namespace: 'default', serviceAccount: 'bookinfo-details' });

async function expectCaFileError(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(isCaError(e) && e.code).to.equal('CA_FILE');
    expect((e as Error).message).to.match(pattern);
    return;
  }
  throw new Error('expected a CA_FILE error');
}

describe('CaDirectory', () => {
  let t: ReturnType<typeof tempDir>;
  let dir: string;
  const key = generatePrivateKey();
  beforeEach(() => {
    t = tempDir();
    dir = join(t.dir, 'ca');
  });
  afterEach(() => t.remove());

  const keyFile = () => join(dir, readdirSync(dir).find((f) => f.endsWith('-key.pem'))!);
  const certFile = () => join(dir, readdirSync(dir).find((f) => f.endsWith('-cert.pem'))!);

  it('creates a root on first open, with the key 0600 and no temp files left, and loads the same root back', async () => {
    const first = await CaDirectory.open(dir);
    expect(statSync(dir).mode & 0o777).to.equal(0o700);
    expect(statSync(keyFile()).mode & 0o777).to.equal(0o600);
    expect(readdirSync(dir).sort()).to.deep.equal([certFile().slice(dir.length + 1), keyFile().slice(dir.length + 1), TRUST_BUNDLE_FILE].sort());
    const again = await CaDirectory.open(dir);
    expect(again.authority.root.fingerprint).to.equal(first.authority.root.fingerprint);
    expect(again.bundle.toJSON()).to.deep.equal(first.bundle.toJSON());
    // A certificate from the reloaded CA verifies against the first one's bundle: the identity survives a restart.
    const issued = await again.signCsr(createCsr(key), id);
    expect(verifyPeer([new X509Certificate(issued.certificatePem)], first.bundle).ok).to.equal(true);
  });

  it('keeps issuedUntil on disk ahead of what it issued, writing only when it must', async () => {
    const ca = await CaDirectory.open(dir);
    const issued = await ca.signCsr(createCsr(key), id, { ttlSeconds: 3600 });
    const stored = () => JSON.parse(readFileSync(join(dir, TRUST_BUNDLE_FILE), 'utf8')).roots[0].issuedUntil as string;
    expect(new Date(stored()) >= issued.notAfter).to.equal(true);
    const before = statSync(join(dir, TRUST_BUNDLE_FILE)).mtimeMs;
    const firstStored = stored();
    for (let i = 0; i < 5; i++) await ca.signCsr(createCsr(key), id, { ttlSeconds: 3600 });
    expect(stored()).to.equal(firstStored);
    expect(statSync(join(dir, TRUST_BUNDLE_FILE)).mtimeMs).to.equal(before);
  });

  it('rotates: the new root signs, the old one stays in the bundle until its certificates expired, across a restart', async () => {
    const t0 = new Date();
    const ca = await CaDirectory.open(dir, { now: t0 });
    const oldRoot = ca.authority.root.fingerprint;
    const oldCert = await ca.signCsr(createCsr(key), id, { ttlSeconds: 600, now: t0 });
    const bundle = await ca.rotate({ now: t0 });
    expect(bundle.version).to.equal(3); // one version to add the root, one to make it sign
    expect(ca.authority.root.fingerprint).to.not.equal(oldRoot);
    expect(bundle.root(oldRoot)!.issuedUntil!.getTime()).to.equal(oldCert.notAfter.getTime()); // exact, no slack
    expect(readdirSync(dir).filter((f) => f.endsWith('-key.pem'))).to.have.length(1); // the old key is gone

    const reloaded = await CaDirectory.open(dir);
    expect(reloaded.authority.root.fingerprint).to.equal(ca.authority.root.fingerprint);
    expect(reloaded.bundle.roots).to.have.length(2);
    expect(verifyPeer([new X509Certificate(oldCert.certificatePem)], reloaded.bundle).ok).to.equal(true);
    expect(await reloaded.prune(new Date(t0.getTime() + 300_000))).to.deep.equal([]);
    const dropped = await reloaded.prune(new Date(oldCert.notAfter.getTime() + 1000));
    expect(dropped.map((r) => r.certificate.fingerprint)).to.deep.equal([oldRoot]);
    const final = await CaDirectory.open(dir);
    expect(final.bundle.version).to.equal(4);
    expect(final.bundle.roots.map((r) => r.certificate.fingerprint)).to.deep.equal([ca.authority.root.fingerprint]);
  });

  it('a rotation in two steps: the new root is trusted before it signs, and a restart in between keeps it pending', async () => {
    const ca = await CaDirectory.open(dir);
    const oldRoot = ca.authority.root.fingerprint;
    const begun = await ca.beginRotation();
    expect(begun.version).to.equal(2);
    expect(begun.roots).to.have.length(2);
    expect(begun.activeFingerprint).to.equal(oldRoot); // the old root still signs
    const newRoot = begun.pending!.certificate.fingerprint;
    expect(newRoot).to.not.equal(oldRoot);
    expect(begun.retired(new Date(Date.now() + 365 * 86400_000))).to.deep.equal([]); // a pending root is never retired
    const issuedBefore = await ca.signCsr(createCsr(key), id);
    expect(issuedBefore.rootFingerprint).to.equal(oldRoot);
    expect(await ca.beginRotation()).to.equal(ca.bundle); // begun twice: the same rotation

    const reloaded = await CaDirectory.open(dir);
    expect(reloaded.pendingRoot?.certificate.fingerprint).to.equal(newRoot);
    const done = await reloaded.completeRotation();
    expect(done.activeFingerprint).to.equal(newRoot);
    expect(done.pending).to.equal(undefined);
    expect((await reloaded.signCsr(createCsr(key), id)).rootFingerprint).to.equal(newRoot);
    // The old root's last certificate keeps verifying until it expires.
    expect(verifyPeer([new X509Certificate(issuedBefore.certificatePem)], done).ok).to.equal(true);
    let refused: Error | undefined;
    await reloaded.completeRotation().catch((e: Error) => (refused = e));
    expect(refused?.message).to.match(/no rotation was begun/);
  });

  it('a rotation cut short before the bundle was written leaves the old CA whole', async () => {
    const ca = await CaDirectory.open(dir);
    // What a crash between writing the new root's files and the bundle leaves: files the bundle does not name.
    const stray = CertificateAuthority.createRoot();
    const id16 = stray.root.fingerprint.slice(0, 16);
    writeFileSync(join(dir, `root-${id16}-cert.pem`), stray.root.pem);
    writeFileSync(join(dir, `root-${id16}-key.pem`), stray.privateKeyPem(), { mode: 0o600 });
    const reopened = await CaDirectory.open(dir);
    expect(reopened.authority.root.fingerprint).to.equal(ca.authority.root.fingerprint);
    expect(reopened.bundle.roots).to.have.length(1);
  });

  it('refuses a key readable by others, garbled files and another trust domain, naming the file', async () => {
    await CaDirectory.open(dir);
    chmodSync(keyFile(), 0o644);
    await expectCaFileError(CaDirectory.open(dir), new RegExp(`^${keyFile()}: mode 0644 lets others read the CA key; it must be 0600 \\(run: chmod 600 `));
    chmodSync(keyFile(), 0o600);
    await expectCaFileError(CaDirectory.open(dir, { trustDomain: 'example.org' }), /is for trust domain "cluster.local", not "example.org"/);
    const cert = readFileSync(certFile(), 'utf8');
    writeFileSync(certFile(), cert.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!'));
    await expectCaFileError(CaDirectory.open(dir), new RegExp(`^${certFile()}: PEM block CERTIFICATE is not valid base64`));
    writeFileSync(certFile(), cert);
    writeFileSync(join(dir, TRUST_BUNDLE_FILE), '{"format": 1, ');
    await expectCaFileError(CaDirectory.open(dir), new RegExp(`^${join(dir, TRUST_BUNDLE_FILE)}: not valid JSON`));
  });

  it('refuses a root certificate file swapped for another CA\'s', async () => {
    await CaDirectory.open(dir);
    const other = join(t.dir, 'other');
    await CaDirectory.open(other);
    const otherCert = join(other, readdirSync(other).find((f) => f.endsWith('-cert.pem'))!);
    const otherKey = join(other, readdirSync(other).find((f) => f.endsWith('-key.pem'))!);
    writeFileSync(certFile(), readFileSync(otherCert));
    writeFileSync(keyFile(), readFileSync(otherKey));
    await expectCaFileError(CaDirectory.open(dir), /is not the root .* names as active/);
  });
});
