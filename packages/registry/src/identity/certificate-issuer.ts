// Decides whether a session may have a certificate, and for which identity: only the one of its Hello
// (spiffe://<trust domain>/ns/<namespace>/sa/<service account>), and only once it proved it with a
// join token for that identity (first certificate) or with its current certificate and a signature by
// that certificate's key over the session's challenge (renewal). What the CSR claims is never used.
import { verify, X509Certificate } from 'node:crypto';
import { isWeftdSpiffeId, parseJoinToken, renewalProofPayload, type CertificateMsg, type CertificateRequestMsg } from '@weft/api';
import { isCaError, spiffeId, verifyPeer } from '@weft/ca';
import type { JoinTokenStore } from './join-token-store.js';
import type { MeshCa } from './mesh-ca.js';

export interface SessionIdentity {
  namespace: string;
  serviceAccount: string;
  /** Random per session, sent in its Welcome; what a renewal's proof signs. */
  challenge: string;
}

export type IssueOutcome =
  | { ok: true; certificate: CertificateMsg; tokenId?: string }
  /** `denied`: the proof is for another identity or does not hold (PERMISSION_DENIED); `invalid`: a malformed request. */
  | { ok: false; kind: 'denied' | 'invalid'; message: string };

export class CertificateIssuer {
  constructor(
    private readonly ca: MeshCa,
    private readonly tokens: JoinTokenStore,
    private readonly ttlSeconds: number,
  ) {}

  async issue(session: SessionIdentity, req: CertificateRequestMsg, now = new Date()): Promise<IssueOutcome> {
    let id;
    try {
      id = spiffeId({ namespace: session.namespace, serviceAccount: session.serviceAccount, trustDomain: this.ca.trustDomain });
    } catch (e) {
      return { ok: false, kind: 'invalid', message: `hello.workload: no SPIFFE identity for it (${(e as Error).message})` };
    }
    if (isWeftdSpiffeId(id.uri)) return { ok: false, kind: 'denied', message: `${id.uri} is weftd's own identity; no workload may hold it` };
    const proved = req.token ? this.checkToken(req.token, session, now) : this.checkRenewal(req, session, id.uri, now);
    if (!proved.ok) return proved;
    try {
      const issued = await this.ca.signCsr(req.csrPem, id, this.ttlSeconds);
      const bundle = this.ca.bundle;
      return {
        ok: true,
        tokenId: proved.tokenId,
        certificate: {
          requestId: req.requestId,
          chainPem: issued.chainPem,
          trustBundlePem: this.ca.bundlePems(),
          bundleVersion: bundle.version,
          expiresMs: issued.notAfter.getTime(),
          spiffeId: issued.spiffeId.uri,
        },
      };
    } catch (e) {
      if (isCaError(e)) return { ok: false, kind: 'invalid', message: `certificate_request.csr_pem: ${e.message}` };
      throw e;
    }
  }

  private checkToken(token: string, session: SessionIdentity, now: Date): { ok: true; tokenId: string } | Extract<IssueOutcome, { ok: false }> {
    let parts;
    try {
      parts = parseJoinToken(token);
    } catch (e) {
      return { ok: false, kind: 'denied', message: `certificate_request.token: ${(e as Error).message}` };
    }
    const checked = this.tokens.check(parts.id, parts.secret, now.getTime());
    if (!checked.ok) return { ok: false, kind: 'denied', message: checked.message };
    const r = checked.record;
    if (r.namespace !== session.namespace || r.serviceAccount !== session.serviceAccount) {
      return {
        ok: false,
        kind: 'denied',
        message:
          `join token ${r.id} is for namespace ${r.namespace}, service account ${r.serviceAccount}, but this workload said hello as namespace ` +
          `${session.namespace}, service account ${session.serviceAccount}; create the mesh with the identity of its token, or create a token for this identity`,
      };
    }
    return { ok: true, tokenId: r.id };
  }

  private checkRenewal(req: CertificateRequestMsg, session: SessionIdentity, expected: string, now: Date): { ok: true; tokenId?: undefined } | Extract<IssueOutcome, { ok: false }> {
    if (!req.currentChainPem || req.proof.length === 0) {
      return { ok: false, kind: 'denied', message: 'certificate_request needs a token (first certificate) or current_chain_pem and proof (renewal); it has neither' };
    }
    let chain: X509Certificate[];
    try {
      chain = splitPem(req.currentChainPem).map((pem) => new X509Certificate(pem));
    } catch (e) {
      return { ok: false, kind: 'invalid', message: `certificate_request.current_chain_pem: not PEM certificates (${(e as Error).message})` };
    }
    const peer = verifyPeer(chain, this.ca.bundle, { expectedId: expected, now });
    if (!peer.ok) return { ok: false, kind: 'denied', message: `certificate_request.current_chain_pem: ${peer.message.replace(/\n/g, ', ')} (${peer.reason}); renew before the certificate expires, or enrol again with a join token` };
    const signed = verify('sha256', renewalProofPayload(session.challenge, req.csrPem), chain[0]!.publicKey, Buffer.from(req.proof));
    if (!signed) return { ok: false, kind: 'denied', message: "certificate_request.proof: not a signature by the current certificate's key over this session's challenge" };
    return { ok: true };
  }
}

function splitPem(text: string): string[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) throw new Error('no CERTIFICATE block');
  return blocks;
}
