import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { CertificateAuthority } from './authority.js';
import { buildCertificate, encodeName, keyIdentifier, randomSerial, subjectKeyIdentifierExtension, authorityKeyIdentifierExtension } from './certificate-builder.js';
import { readCertificatesPem } from './certificate-reader.js';
import { createCsr } from './csr.js';
import { generatePrivateKey } from './key-algorithm.js';
import { spkiOf } from './keys.js';
import { spiffeId } from './spiffe.js';
import { expectCode, tempDir } from './test-support.js';

const HOUR = 3600 * 1000;
const productpage = spiffeId({ namespace: 'default', serviceAccount: 'bookinfo-productpage' });

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `openssl verify` of a leaf against a root file, with untrusted intermediates: OpenSSL's own opinion. */
function opensslVerify(rootPem: string, leafPem: string, intermediatesPem = ''): string {
  const t = tempDir();
  try {
    writeFileSync(join(t.dir, 'root.pem'), rootPem);
    writeFileSync(join(t.dir, 'leaf.pem'), leafPem);
    const args = ['verify', '-purpose', 'sslclient', '-CAfile', join(t.dir, 'root.pem')];
    if (intermediatesPem) {
      writeFileSync(join(t.dir, 'chain.pem'), intermediatesPem);
      args.push('-untrusted', join(t.dir, 'chain.pem'));
    }
    return execFileSync('openssl', [...args, join(t.dir, 'leaf.pem')], { encoding: 'utf8' });
  } finally {
    t.remove();
  }
}

/** An intermediate CA signed by `parent` (what a corporate PKI hands the mesh). */
function intermediateOf(parent: CertificateAuthority, key: KeyObject, opts: { notAfter?: Date; cA?: boolean } = {}): string {
  const parentKey = createPrivateKey(parent.privateKeyPem());
  const spki = spkiOf(key);
  return buildCertificate({
    serial: randomSerial(),
    issuerName: parent.certificate.subjectName,
    subjectName: encodeName([['O', 'Example Corp'], ['CN', 'mesh intermediate']]),
    notBefore: new Date(Date.now() - HOUR),
    notAfter: opts.notAfter ?? new Date(Date.now() + 1000 * HOUR),
    subjectPublicKeyInfo: spki,
    extensions: [
      { name: 'basicConstraints', critical: true, cA: opts.cA ?? true },
      { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
      subjectKeyIdentifierExtension(keyIdentifier(spki)),
      authorityKeyIdentifierExtension(parent.certificate.subjectKeyId!),
    ],
    signingKey: parentKey,
  }).pem;
}

describe('CertificateAuthority', () => {
  const root = CertificateAuthority.createRoot();
  const workloadKey = generatePrivateKey();

  describe('a new root', () => {
    it('is a self-signed EC P-256 CA for the trust domain, valid 10 years, that may sign certificates', () => {
      const x = root.root.x509;
      expect(root.chain).to.have.length(1);
      expect(x.ca).to.equal(true);
      expect(x.checkIssued(x)).to.equal(true);
      expect(x.verify(x.publicKey)).to.equal(true);
      expect(x.publicKey.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
      expect(x.subject).to.match(/^O=cluster\.local\nCN=Weft mesh root CA [0-9a-f]{8}$/);
      expect(root.root.canSignCertificates).to.equal(true);
      const years = (root.root.notAfter.getTime() - root.root.notBefore.getTime()) / (365 * 24 * HOUR);
      expect(years).to.be.within(9.99, 10.01);
      expect(x.checkPrivateKey(createPrivateKey(root.privateKeyPem()))).to.equal(true);
    });

    it('takes RSA, a trust domain and a validity', () => {
      const ca = CertificateAuthority.createRoot({ keyAlgorithm: 'rsa-2048', trustDomain: 'example.org', validitySeconds: 86400 });
      expect(ca.root.x509.publicKey.asymmetricKeyType).to.equal('rsa');
      expect(ca.root.x509.subject).to.match(/^O=example\.org\n/);
      expect(ca.root.notAfter.getTime() - ca.root.notBefore.getTime()).to.equal((86400 + 60) * 1000);
      const cert = ca.signCsr(createCsr(workloadKey), 'spiffe://example.org/ns/a/sa/b');
      expect(new X509Certificate(cert.certificatePem).verify(ca.root.x509.publicKey)).to.equal(true);
    });

    it('refuses a validity out of bounds, naming the option', () => {
      expect(expectCode(() => CertificateAuthority.createRoot({ validitySeconds: 10 }), 'INVALID_OPTION').message).to.match(/^validitySeconds 10 is out of bounds/);
    });
  });

  describe('signing a CSR', () => {
    it('certifies the proved identity and nothing the CSR asked for, as a short-lived workload certificate', () => {
      const now = new Date('2030-01-01T00:00:00Z');
      const ca = CertificateAuthority.createRoot({ now: new Date('2029-12-31T00:00:00Z') });
      const csr = createCsr(workloadKey, { commonName: 'admin.example.com' });
      const issued = ca.signCsr(csr, productpage, { now });
      const x = new X509Certificate(issued.certificatePem);
      expect(x.subjectAltName).to.equal('URI:spiffe://cluster.local/ns/default/sa/bookinfo-productpage');
      expect(x.subject).to.equal('O=cluster.local');
      expect(x.ca).to.equal(false);
      expect(x.keyUsage).to.have.members(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
      expect(x.checkPrivateKey(workloadKey)).to.equal(true);
      expect(x.verify(ca.root.x509.publicKey)).to.equal(true);
      expect(issued.notAfter.toISOString()).to.equal('2030-01-02T00:00:00.000Z'); // 24 h
      expect(issued.notBefore.toISOString()).to.equal('2029-12-31T23:59:00.000Z'); // backdated for clock skew
      expect(new Date(x.validTo).getTime()).to.equal(issued.notAfter.getTime());
      expect(issued.serialNumber).to.equal(x.serialNumber.toLowerCase());
      expect(issued.chainPem).to.equal(issued.certificatePem + ca.root.pem);
      expect(issued.rootFingerprint).to.equal(ca.root.fingerprint);
      expect(ca.latestIssuedNotAfter?.getTime()).to.equal(issued.notAfter.getTime());
      const info = readCertificatesPem(issued.certificatePem, 'leaf')[0]!;
      expect(info.authorityKeyId?.equals(ca.root.subjectKeyId!)).to.equal(true);
    });

    it('gives every certificate its own random serial', () => {
      const csr = createCsr(workloadKey);
      const serials = new Set(Array.from({ length: 20 }, () => root.signCsr(csr, productpage).serialNumber));
      expect(serials.size).to.equal(20);
    });

    it('takes a TTL in seconds, bounded, and never past the CA certificate', () => {
      const csr = createCsr(workloadKey);
      const short = root.signCsr(csr, productpage, { ttlSeconds: 5 });
      expect(short.notAfter.getTime() - short.notBefore.getTime()).to.equal(65 * 1000);
      expect(expectCode(() => root.signCsr(csr, productpage, { ttlSeconds: 0 }), 'INVALID_OPTION').message).to.match(/^ttlSeconds 0/);
      expect(expectCode(() => root.signCsr(csr, productpage, { ttlSeconds: 1.5 }), 'INVALID_OPTION').message).to.match(/whole seconds/);
      expect(expectCode(() => root.signCsr(csr, productpage, { ttlSeconds: 91 * 86400 }), 'INVALID_OPTION').message).to.match(/from 1 to 7776000/);
      const brief = CertificateAuthority.createRoot({ validitySeconds: 7200 });
      const clamped = brief.signCsr(csr, productpage, { ttlSeconds: 86400 });
      expect(clamped.notAfter.getTime()).to.equal(brief.root.notAfter.getTime());
    });

    it('refuses an identity of another trust domain, and a bad CSR', () => {
      expect(expectCode(() => root.signCsr(createCsr(workloadKey), 'spiffe://evil.org/ns/a/sa/b'), 'INVALID_SPIFFE_ID').message).to.match(/trust domain "evil.org", but this CA signs for "cluster.local"/);
      expectCode(() => root.signCsr('garbage', productpage), 'INVALID_CSR');
    });

    it('ignores the subject and SANs an OpenSSL-made CSR asks for', function () {
      if (!hasOpenssl()) this.skip();
      const t = tempDir();
      try {
        // `ecparam -genkey` writes an EC PARAMETERS block before the key: operators' keys look like this too.
        execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-out', join(t.dir, 'key.pem')]);
        execFileSync('openssl', ['req', '-new', '-key', join(t.dir, 'key.pem'), '-subj', '/CN=admin', '-addext', 'subjectAltName=DNS:evil.example,URI:spiffe://cluster.local/ns/kube-system/sa/admin', '-out', join(t.dir, 'req.pem')]);
        const issued = root.signCsr(readFileSync(join(t.dir, 'req.pem'), 'utf8'), productpage);
        const x = new X509Certificate(issued.certificatePem);
        expect(x.subjectAltName).to.equal(`URI:${productpage.uri}`);
        expect(x.subject).to.equal('O=cluster.local');
      } finally {
        t.remove();
      }
    });

    it('passes openssl verify', function () {
      if (!hasOpenssl()) this.skip();
      const issued = root.signCsr(createCsr(workloadKey), productpage);
      expect(opensslVerify(root.root.pem, issued.certificatePem)).to.match(/: OK/);
    });
  });

  describe('a server certificate for weftd', () => {
    it('carries weftd\'s SPIFFE ID and the DNS and IP SANs', () => {
      const key = generatePrivateKey();
      const issued = root.issueServerCertificate({ publicKey: key, id: 'spiffe://cluster.local/ns/istio-system/sa/weftd', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] });
      const x = new X509Certificate(issued.certificatePem);
      expect(x.subjectAltName).to.equal('URI:spiffe://cluster.local/ns/istio-system/sa/weftd, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
      expect(x.checkHost('localhost')).to.equal('localhost');
      expect(x.checkIP('127.0.0.1')).to.equal('127.0.0.1');
      expect(expectCode(() => root.issueServerCertificate({ publicKey: key, id: productpage, ipAddresses: ['localhost'] }), 'INVALID_OPTION').message).to.match(/ipAddresses: "localhost"/);
      expect(expectCode(() => root.issueServerCertificate({ publicKey: key, id: productpage, dnsNames: ['a b'] }), 'INVALID_OPTION').message).to.match(/dnsNames: "a b"/);
    });
  });

  describe("an operator's CA", () => {
    const corporate = CertificateAuthority.createRoot({ trustDomain: 'corp.example' });
    const intermediateKey = generatePrivateKey();
    const intermediatePem = intermediateOf(corporate, intermediateKey);
    const keyPem = intermediateKey.export({ format: 'pem', type: 'pkcs8' }) as string;

    it('loads an intermediate with its chain, and hands workloads the full chain', () => {
      const ca = CertificateAuthority.fromPem({ cert: intermediatePem, chain: corporate.root.pem, key: keyPem });
      expect(ca.chain.map((c) => c.fingerprint)).to.deep.equal([readCertificatesPem(intermediatePem, 'i')[0]!.fingerprint, corporate.root.fingerprint]);
      expect(ca.root.fingerprint).to.equal(corporate.root.fingerprint);
      const issued = ca.signCsr(createCsr(workloadKey), productpage);
      const chain = readCertificatesPem(issued.chainPem, 'chain');
      expect(chain).to.have.length(3);
      expect(chain[0]!.x509.checkIssued(chain[1]!.x509)).to.equal(true);
      expect(issued.rootFingerprint).to.equal(corporate.root.fingerprint);
      if (hasOpenssl()) expect(opensslVerify(corporate.root.pem, issued.certificatePem, intermediatePem)).to.match(/: OK/);
    });

    it('takes the chain appended to the certificate, and SEC1 keys with or without EC PARAMETERS', () => {
      const sec1 = intermediateKey.export({ format: 'pem', type: 'sec1' }) as string;
      const ca = CertificateAuthority.fromPem({ cert: intermediatePem + corporate.root.pem, key: sec1 });
      expect(ca.chain).to.have.length(2);
      const withParams = '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n' + sec1;
      expect(CertificateAuthority.fromPem({ cert: intermediatePem + corporate.root.pem, key: withParams }).chain).to.have.length(2);
    });

    it('refuses a key that is not the certificate\'s, naming the files', () => {
      const other = generatePrivateKey().export({ format: 'pem', type: 'pkcs8' }) as string;
      const e = expectCode(() => CertificateAuthority.fromPem({ cert: intermediatePem + corporate.root.pem, key: other, sources: { cert: '/etc/ca.crt', key: '/etc/ca.key' } }), 'INVALID_CA');
      expect(e.message).to.match(/^\/etc\/ca\.key: the key does not belong to the certificate in \/etc\/ca\.crt/);
    });

    it('refuses a chain that stops short of the root, or is out of order', () => {
      expect(expectCode(() => CertificateAuthority.fromPem({ cert: intermediatePem, key: keyPem }), 'INVALID_CA').message).to.match(/not signed by itself \(a root\).*end it with the root/);
      const unrelated = CertificateAuthority.createRoot();
      expect(expectCode(() => CertificateAuthority.fromPem({ cert: intermediatePem + unrelated.root.pem, key: keyPem }), 'INVALID_CA').message).to.match(/certificate 1 of the chain .* is not signed by certificate 2/);
    });

    it('refuses a leaf, an expired CA and garbled PEM', () => {
      const leafKey = generatePrivateKey();
      const leaf = intermediateOf(corporate, leafKey, { cA: false });
      expect(expectCode(() => CertificateAuthority.fromPem({ cert: leaf + corporate.root.pem, key: leafKey.export({ format: 'pem', type: 'pkcs8' }) as string }), 'INVALID_CA').message).to.match(/is not a CA/);
      const expired = intermediateOf(corporate, intermediateKey, { notAfter: new Date(Date.now() - 1000) });
      expect(expectCode(() => CertificateAuthority.fromPem({ cert: expired + corporate.root.pem, key: keyPem }), 'INVALID_CA').message).to.match(/expired at/);
      expect(expectCode(() => CertificateAuthority.fromPem({ cert: 'nope', key: keyPem, sources: { cert: 'ca.crt' } }), 'INVALID_CA').message).to.equal('ca.crt: no PEM block found (expected "-----BEGIN ...-----")');
      expect(expectCode(() => CertificateAuthority.fromPem({ cert: intermediatePem + corporate.root.pem, key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', sources: { key: 'ca.key' } }), 'INVALID_CA').message).to.match(/^ca\.key: the private key cannot be read/);
      const encrypted = intermediateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'secret' }) as string;
      expect(expectCode(() => CertificateAuthority.fromPem({ cert: intermediatePem + corporate.root.pem, key: encrypted, sources: { key: 'ca.key' } }), 'INVALID_CA').message).to.match(/^ca\.key: the key is encrypted; give it unencrypted/);
    });
  });
});
