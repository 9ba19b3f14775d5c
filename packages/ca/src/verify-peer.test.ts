import { createPrivateKey, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { createServer, connect, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { CertificateAuthority } from './authority.js';
import { buildCertificate, encodeName, randomSerial } from './certificate-builder.js';
import { createCsr } from './csr.js';
import { generatePrivateKey } from './key-algorithm.js';
import { spkiOf } from './keys.js';
import { spiffeId } from './spiffe.js';
import { TrustBundle } from './trust-bundle.js';
import { verifyPeer } from './verify-peer.js';

const reviews = spiffeId({ namespace: 'default', serviceAccount: 'bookinfo-reviews' });
const productpage = spiffeId({ namespace: 'default', serviceAccount: 'bookinfo-productpage' });

/** The chain a TLS socket received, leaf first (Node links it through issuerCertificate). */
function peerChain(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let cert = socket.getPeerCertificate(true);
  while (cert && cert.raw && chain.length < 10) {
    chain.push(new X509Certificate(cert.raw));
    if (cert.issuerCertificate === cert) break;
    cert = cert.issuerCertificate;
  }
  return chain;
}

describe('verifyPeer', () => {
  const ca = CertificateAuthority.createRoot();
  const bundle = TrustBundle.create(ca.trustDomain, ca.root);
  const key = generatePrivateKey();
  const reviewsCert = ca.signCsr(createCsr(key), reviews);
  const chainOf = (pem: string) => pem.split(/(?=-----BEGIN CERTIFICATE-----)/).map((p) => new X509Certificate(p));

  it('returns the SPIFFE ID of a certificate from the bundle\'s root', () => {
    const r = verifyPeer(chainOf(reviewsCert.chainPem), bundle, { expectedId: reviews });
    expect(r.ok && r.id.uri).to.equal(reviews.uri);
    expect(r.ok && r.rootFingerprint).to.equal(ca.root.fingerprint);
  });

  it('says why it refuses: expired, not yet valid, unknown CA, wrong identity, wrong trust domain, no SPIFFE ID', () => {
    const chain = chainOf(reviewsCert.certificatePem);
    const reasons = (r: ReturnType<typeof verifyPeer>) => (r.ok ? 'ok' : r.reason);
    expect(reasons(verifyPeer(chain, bundle, { now: new Date(Date.now() + 2 * 86400_000) }))).to.equal('EXPIRED');
    expect(reasons(verifyPeer(chain, bundle, { now: new Date(Date.now() - 3600_000) }))).to.equal('NOT_YET_VALID');
    const foreign = CertificateAuthority.createRoot();
    expect(reasons(verifyPeer(chainOf(foreign.signCsr(createCsr(key), reviews).chainPem), bundle))).to.equal('UNKNOWN_CA');
    const r = verifyPeer(chain, bundle, { expectedId: productpage });
    expect(r.ok ? '' : r.message).to.equal(`the peer is ${reviews.uri}, but the endpoint is registered for ${productpage.uri}`);
    const other = CertificateAuthority.createRoot({ trustDomain: 'other.org' });
    const otherBundle = TrustBundle.create('cluster.local', other.root); // a misconfigured bundle: the root is trusted, its domain is not
    expect(reasons(verifyPeer(chainOf(other.signCsr(createCsr(key), 'spiffe://other.org/ns/a/sa/b').certificatePem), otherBundle))).to.equal('WRONG_TRUST_DOMAIN');
    const plain = buildCertificate({
      serial: randomSerial(),
      issuerName: ca.certificate.subjectName,
      subjectName: encodeName([['CN', 'www.example.com']]),
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 60_000),
      subjectPublicKeyInfo: spkiOf(key),
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'www.example.com' }] }],
      signingKey: createPrivateKey(ca.privateKeyPem()),
    });
    expect(reasons(verifyPeer([new X509Certificate(plain.pem)], bundle))).to.equal('NO_SPIFFE_ID');
    expect(reasons(verifyPeer([], bundle))).to.equal('BAD_CERTIFICATE');
    expect(reasons(verifyPeer([Buffer.from('garbage')], bundle))).to.equal('BAD_CERTIFICATE');
  });

  it('works over a real mTLS handshake: each side learns the other\'s SPIFFE ID', async () => {
    const serverKey = generatePrivateKey();
    const server = ca.signCsr(createCsr(serverKey), reviews);
    const clientKey = generatePrivateKey();
    const client = ca.signCsr(createCsr(clientKey), productpage);
    const seenByServer: string[] = [];
    const srv = createServer({ key: serverKey.export({ format: 'pem', type: 'pkcs8' }), cert: server.chainPem, ca: bundle.pem, requestCert: true, rejectUnauthorized: true }, (socket) => {
      const r = verifyPeer(peerChain(socket), bundle);
      seenByServer.push(r.ok ? r.id.uri : r.reason);
      socket.end('hi');
    });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    try {
      const socket = connect({
        host: '127.0.0.1',
        port: (srv.address() as AddressInfo).port,
        key: clientKey.export({ format: 'pem', type: 'pkcs8' }),
        cert: client.chainPem,
        ca: bundle.pem,
        // The mesh checks the SPIFFE ID, not the host name (there is none in a workload certificate).
        checkServerIdentity: () => undefined,
      });
      await once(socket, 'secureConnect');
      const r = verifyPeer(peerChain(socket), bundle, { expectedId: reviews });
      expect(r.ok && r.id.uri).to.equal(reviews.uri);
      socket.resume();
      await once(socket, 'end');
      socket.destroy();
      expect(seenByServer).to.deep.equal([productpage.uri]);
    } finally {
      srv.close();
    }
  });

  it('TLS itself refuses a client certificate from a foreign CA', async () => {
    const serverKey = generatePrivateKey();
    const server = ca.signCsr(createCsr(serverKey), reviews);
    const foreign = CertificateAuthority.createRoot();
    const clientKey = generatePrivateKey();
    const client = foreign.signCsr(createCsr(clientKey), productpage);
    let handled = 0;
    const srv = createServer({ key: serverKey.export({ format: 'pem', type: 'pkcs8' }), cert: server.chainPem, ca: bundle.pem, requestCert: true, rejectUnauthorized: true }, (s) => {
      handled++;
      s.end();
    });
    srv.on('tlsClientError', () => undefined);
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    try {
      const socket = connect({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, key: clientKey.export({ format: 'pem', type: 'pkcs8' }), cert: client.certificatePem, ca: bundle.pem, checkServerIdentity: () => undefined });
      const outcome = await Promise.race([once(socket, 'error').then(([e]) => `error: ${(e as Error).message}`), once(socket, 'close').then(() => 'closed')]);
      socket.destroy();
      expect(outcome).to.match(/error|closed/);
      expect(handled).to.equal(0);
    } finally {
      srv.close();
    }
  });
});
