import { expect } from 'chai';
import { createPrivateKey, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatJoinToken, renewalProofPayload, type CertificateRequestMsg } from '@weft/api';
import { createCsr, createWorkloadKey } from '@weft/ca';
import { CertificateIssuer, type IssueOutcome } from './certificate-issuer.js';
import { JoinTokenStore } from './join-token-store.js';
import { MeshCa } from './mesh-ca.js';

const session = { namespace: 'shop', serviceAccount: 'cart', challenge: 'challenge-1' };
const request = (r: Partial<CertificateRequestMsg>): CertificateRequestMsg => ({ requestId: 'c1', csrPem: '', token: '', currentChainPem: '', proof: Buffer.alloc(0), ...r });
const refusal = (o: IssueOutcome) => (o.ok ? 'issued' : `${o.kind}: ${o.message}`);

describe('certificate issuer', () => {
  let dir: string;
  let ca: MeshCa;
  let tokens: JoinTokenStore;
  let issuer: CertificateIssuer;
  let token: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-issuer-'));
    ca = await MeshCa.open({ dataDir: dir, trustDomain: 'cluster.local' });
    tokens = await JoinTokenStore.open(dir);
    issuer = new CertificateIssuer(ca, tokens, 3600);
    const { record, secret } = await tokens.create({ namespace: 'shop', serviceAccount: 'cart' }, 3600_000);
    token = formatJoinToken({ id: record.id, secret, caHash: ca.caHash() });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("signs the token's identity only, whatever the CSR names", async () => {
    const key = createWorkloadKey();
    const csrPem = createCsr(key.privateKey, { commonName: 'spiffe://cluster.local/ns/kube-system/sa/admin' });
    const out = await issuer.issue(session, request({ csrPem, token }));
    if (!out.ok) throw new Error(refusal(out));
    const leaf = new X509Certificate(out.certificate.chainPem);
    expect(leaf.subjectAltName).to.equal('URI:spiffe://cluster.local/ns/shop/sa/cart');
    expect(out.certificate.spiffeId).to.equal('spiffe://cluster.local/ns/shop/sa/cart');
    expect(out.certificate.trustBundlePem).to.have.length(1);
  });

  it('refuses a token for another identity than the Hello, naming both', async () => {
    const out = await issuer.issue({ ...session, serviceAccount: 'payments' }, request({ csrPem: createWorkloadKey().csrPem, token }));
    expect(refusal(out)).to.match(/^denied: .*service account cart.*service account payments/);
  });

  it('refuses a malformed token without echoing it', async () => {
    const out = await issuer.issue(session, request({ csrPem: createWorkloadKey().csrPem, token: 'weft1.secret-stuff' }));
    expect(refusal(out)).to.match(/^denied: certificate_request.token: not a Weft join token/).and.not.contain('secret-stuff');
  });

  describe('renewal', () => {
    let current: { keyPem: string; chainPem: string };
    beforeEach(async () => {
      const key = createWorkloadKey();
      const out = await issuer.issue(session, request({ csrPem: key.csrPem, token }));
      if (!out.ok) throw new Error(refusal(out));
      current = { keyPem: key.privateKeyPem, chainPem: out.certificate.chainPem };
    });
    const renewal = (challenge: string, keyPem = current.keyPem) => {
      const next = createWorkloadKey();
      return request({ csrPem: next.csrPem, currentChainPem: current.chainPem, proof: sign('sha256', renewalProofPayload(challenge, next.csrPem), createPrivateKey(keyPem)) });
    };

    it('renews with the current certificate and a signature over the session challenge', async () => {
      expect(refusal(await issuer.issue(session, renewal(session.challenge)))).to.equal('issued');
    });

    it('refuses a proof over another challenge, or by another key', async () => {
      expect(refusal(await issuer.issue(session, renewal('challenge-of-another-session')))).to.match(/^denied: certificate_request.proof/);
      expect(refusal(await issuer.issue(session, renewal(session.challenge, createWorkloadKey().privateKeyPem)))).to.match(/^denied: certificate_request.proof/);
    });

    it('refuses an expired certificate, and one for another identity', async () => {
      expect(refusal(await issuer.issue(session, renewal(session.challenge), new Date(Date.now() + 2 * 3600_000)))).to.match(/^denied: .*EXPIRED/);
      expect(refusal(await issuer.issue({ ...session, serviceAccount: 'payments' }, renewal(session.challenge)))).to.match(/^denied: .*WRONG_IDENTITY/);
    });

    it("refuses a certificate of another CA", async () => {
      const otherDir = mkdtempSync(join(tmpdir(), 'weft-issuer-other-'));
      try {
        const other = await MeshCa.open({ dataDir: otherDir, trustDomain: 'cluster.local' });
        const key = createWorkloadKey();
        const foreign = await other.signCsr(key.csrPem, { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'cart', uri: 'spiffe://cluster.local/ns/shop/sa/cart', principal: 'cluster.local/ns/shop/sa/cart' }, 3600);
        current = { keyPem: key.privateKeyPem, chainPem: foreign.chainPem };
        const out = refusal(await issuer.issue(session, renewal(session.challenge)));
        expect(out, out).to.match(/^denied: .*UNKNOWN_CA/);
      } finally {
        rmSync(otherDir, { recursive: true, force: true });
      }
    });
  });
});
