import { createPrivateKey, X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { CertificateAuthority } from './authority.js';
import { verifyCsr } from './csr.js';
import { createWorkloadKey } from './workload-key.js';

describe('createWorkloadKey', () => {
  it('makes an EC P-256 key and a CSR for it that the CA signs', () => {
    const wk = createWorkloadKey();
    expect(wk.privateKey.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
    expect(verifyCsr(wk.csrPem).subjectPublicKeyInfo.length).to.be.greaterThan(0);
    const issued = CertificateAuthority.createRoot().signCsr(wk.csrPem, 'spiffe://cluster.local/ns/a/sa/b');
    expect(new X509Certificate(issued.certificatePem).checkPrivateKey(createPrivateKey(wk.privateKeyPem))).to.equal(true);
  });
});
