import { expect } from 'chai';
import { caHashOfCertificate } from '@weft/api';
import { CertificateAuthority, createWorkloadKey, spiffeId } from '@weft/ca';
import { bundleHasCaHash, chainProblem } from './trust-check.js';

describe('trust checks of the workload', () => {
  const ca = CertificateAuthority.createRoot();
  const other = CertificateAuthority.createRoot();
  const uri = 'spiffe://cluster.local/ns/shop/sa/cart';
  const issued = ca.signCsr(createWorkloadKey().csrPem, spiffeId({ namespace: 'shop', serviceAccount: 'cart' }), { ttlSeconds: 60 });

  it("finds the token's CA hash among the bundle's roots, and only there", () => {
    expect(bundleHasCaHash([other.root.pem, ca.root.pem], caHashOfCertificate(ca.root.pem))).to.equal(true);
    expect(bundleHasCaHash([other.root.pem], caHashOfCertificate(ca.root.pem))).to.equal(false);
    expect(bundleHasCaHash(['not pem'], caHashOfCertificate(ca.root.pem))).to.equal(false);
  });

  it('accepts a chain to the bundle for the expected identity', () => {
    expect(chainProblem(issued.chainPem, [ca.root.pem], uri)).to.equal(undefined);
  });

  it('says why a chain is refused: another CA, another identity, expired', () => {
    expect(chainProblem(issued.chainPem, [other.root.pem], uri)).to.match(/does not lead to a root of the trust bundle/);
    expect(chainProblem(issued.chainPem, [ca.root.pem], 'spiffe://cluster.local/ns/shop/sa/payments')).to.match(/is for spiffe:\/\/cluster.local\/ns\/shop\/sa\/cart, not/);
    expect(chainProblem(issued.chainPem, [ca.root.pem], uri, new Date(Date.now() + 3600_000))).to.match(/is not valid now/);
    expect(chainProblem('', [ca.root.pem], uri)).to.match(/no certificate/);
  });
});
