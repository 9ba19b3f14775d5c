import { X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { CertificateAuthority } from './authority.js';
import { createCsr } from './csr.js';
import { generatePrivateKey } from './key-algorithm.js';
import { spiffeId } from './spiffe.js';
import { TrustBundle } from './trust-bundle.js';
import { verifyPeer } from './verify-peer.js';
import { expectCode } from './test-support.js';

describe('TrustBundle', () => {
  const id = spiffeId({ namespace: 'default', serviceAccount: 'bookinfo-ratings' });
  const key = generatePrivateKey();
  const t0 = new Date('2030-01-01T00:00:00Z');
  const at = (hours: number) => new Date(t0.getTime() + hours * 3600_000);

  it('rotates: the new root signs, the old stays while its certificates live, then is dropped', () => {
    const oldCa = CertificateAuthority.createRoot({ now: at(-1) });
    let bundle = TrustBundle.create('cluster.local', oldCa.root, at(0));
    expect(bundle.version).to.equal(1);
    const oldCert = oldCa.signCsr(createCsr(key), id, { now: at(0) });
    bundle = bundle.recordIssued(oldCa.root.fingerprint, oldCert.notAfter);
    expect(bundle.version).to.equal(1); // same roots: nothing for workloads to fetch
    expect(bundle.recordIssued(oldCa.root.fingerprint, at(1))).to.equal(bundle); // already covered

    const newCa = CertificateAuthority.createRoot({ now: at(1) });
    bundle = bundle.rotateTo(newCa.root, at(1));
    expect(bundle.version).to.equal(2);
    expect(bundle.activeFingerprint).to.equal(newCa.root.fingerprint);
    expect(bundle.roots.map((r) => r.certificate.fingerprint)).to.deep.equal([oldCa.root.fingerprint, newCa.root.fingerprint]);
    expect(bundle.pem).to.equal(newCa.root.pem + oldCa.root.pem);

    // While the old certificate lives, both verify.
    const newCert = newCa.signCsr(createCsr(key), id, { now: at(2) });
    for (const c of [oldCert, newCert]) expect(verifyPeer([new X509Certificate(c.certificatePem)], bundle, { now: at(3) }).ok).to.equal(true);
    expect(bundle.prune(at(23))).to.equal(bundle);
    expect(bundle.retired(at(23))).to.deep.equal([]);

    // After it expired (24 h after t0), the old root goes, in a new version.
    const pruned = bundle.prune(at(24.01));
    expect(pruned.version).to.equal(3);
    expect(pruned.roots.map((r) => r.certificate.fingerprint)).to.deep.equal([newCa.root.fingerprint]);
    const r = verifyPeer([new X509Certificate(oldCert.certificatePem)], pruned, { now: at(3) });
    expect(r.ok ? 'ok' : r.reason).to.equal('UNKNOWN_CA');
  });

  it('never drops the active root', () => {
    const ca = CertificateAuthority.createRoot({ now: at(-1) });
    const bundle = TrustBundle.create('cluster.local', ca.root, at(0));
    expect(bundle.prune(at(1000))).to.equal(bundle);
  });

  it('survives JSON, and names the file and field of a damaged one', () => {
    const a = CertificateAuthority.createRoot();
    const b = CertificateAuthority.createRoot();
    const bundle = TrustBundle.create('cluster.local', a.root).recordIssued(a.root.fingerprint, new Date('2031-01-01T00:00:00Z')).rotateTo(b.root);
    const copy = TrustBundle.fromJSON(JSON.parse(JSON.stringify(bundle)), 'trust-bundle.json');
    expect(copy.toJSON()).to.deep.equal(bundle.toJSON());
    const damaged = bundle.toJSON();
    damaged.roots[0]!.fingerprint = 'ab';
    expect(expectCode(() => TrustBundle.fromJSON(damaged, '/data/ca/trust-bundle.json'), 'CA_FILE').message).to.match(/^\/data\/ca\/trust-bundle\.json: roots\[0\]\.fingerprint: "ab" is not the certificate's/);
    const badDate = { ...bundle.toJSON(), roots: bundle.toJSON().roots.map((r) => ({ ...r, addedAt: 'yesterday' })) };
    expect(expectCode(() => TrustBundle.fromJSON(badDate, 'f'), 'CA_FILE').message).to.equal('f: roots[0].addedAt: expected an ISO date, got "yesterday"');
    expect(expectCode(() => TrustBundle.fromJSON({ ...bundle.toJSON(), active: 'x' }, 'f'), 'CA_FILE').message).to.match(/^f: active: "x" is not the fingerprint/);
  });
});
