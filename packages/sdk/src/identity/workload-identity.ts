// The workload's identity: its key (EC P-256, made here, never sent), its certificate from weftd's CA
// and the trust bundle. The first certificate is proved by the join token, and only after weftd's
// bundle matched the token's CA hash (kubeadm's discovery-token-ca-cert-hash): a weftd with another CA
// never sees the secret. Renewals, at `renewFraction` of the lifetime (Istio: half), are proved by the
// current certificate and a signature over the session's challenge, with a fresh key each time.
import { sign } from 'node:crypto';
import { renewalProofPayload, type CertificateMsg, type CertificateRequestMsg, type JoinTokenParts, type TrustBundleUpdateMsg, type WelcomeMsg } from '@weft/api';
import { createWorkloadKey, type WorkloadKey } from '@weft/ca';
import { buildTlsMaterial, type TlsMaterial } from './tls-material.js';
import { bundleHasCaHash, chainProblem } from './trust-check.js';

export interface IdentityStatus {
  spiffeId: string;
  /** The certificate's notAfter, ISO 8601. */
  expiresAt: string;
  bundleVersion: number;
}

export interface WorkloadIdentityOptions {
  token: { text: string; parts: JoinTokenParts };
  /** spiffe://<trust domain>/ns/<namespace>/sa/<service account> is checked on the certificate; the trust domain is weftd's. */
  namespace: string;
  serviceAccount: string;
  renewFraction: number;
  /** Sends on the current session; false when there is none. */
  send(req: CertificateRequestMsg): boolean;
  /** Background failures (a renewal that failed and will be retried). */
  error(e: Error): void;
  /** Called after each certificate is installed (the first, renewals, a re-enrolment). */
  certified?(): void;
  /** Retry delay of a renewal that could not be sent or was not answered. Default 1000 ms. */
  retryMs?: number;
}

interface Held {
  key: WorkloadKey;
  chainPem: string;
  spiffeId: string;
  /** When it arrived: its lifetime counts from here (notBefore is backdated for clock skew). */
  receivedAt: number;
  notAfter: Date;
}

export class WorkloadIdentity {
  private held: Held | undefined;
  private pending: { key: WorkloadKey; requestId: string; sentAt: number } | undefined;
  private bundle: { pems: string[]; version: number } | undefined;
  private challenge = '';
  private renewTimer: NodeJS.Timeout | undefined;
  private counter = 0;
  private closed = false;
  private material: TlsMaterial | null = null;
  private generation = 0;
  private readonly first: { promise: Promise<void>; resolve(): void; reject(e: Error): void };

  constructor(private readonly opts: WorkloadIdentityOptions) {
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    promise.catch(() => undefined); // awaited by createMesh; a mesh closed first must not leave it unhandled
    this.first = { promise, resolve, reject };
  }

  /** Resolves with the first certificate; rejects when weftd's CA or its answer cannot be trusted. */
  get ready(): Promise<void> {
    return this.first.promise;
  }

  status(): IdentityStatus | null {
    if (!this.held || !this.bundle) return null;
    return { spiffeId: this.held.spiffeId, expiresAt: this.held.notAfter.toISOString(), bundleVersion: this.bundle.version };
  }

  /** The key and chain for TLS (the next step, mTLS, uses them). */
  credentials(): { keyPem: string; chainPem: string; bundlePem: string } | null {
    if (!this.held || !this.bundle) return null;
    return { keyPem: this.held.key.privateKeyPem, chainPem: this.held.chainPem, bundlePem: this.bundle.pems.join('') };
  }

  /**
   * Whether a new session can be proved by the certificate held (weftd checks it in the TLS handshake):
   * false before the first one and once it expired (weftd was out of reach longer than half its lifetime).
   */
  hasValidCertificate(now = Date.now()): boolean {
    return this.held !== undefined && now < this.held.notAfter.getTime();
  }

  /** The roots of the bundle held (checked against the token's CA hash), or undefined before the first Welcome. */
  bundlePems(): string[] | undefined {
    return this.bundle?.pems;
  }

  /** The data plane's TLS material, the same object until the certificate or the bundle changes. */
  tls(): TlsMaterial | null {
    if (!this.held || !this.bundle) return null;
    return (this.material ??= buildTlsMaterial(++this.generation, this.held.key.privateKeyPem, this.held.chainPem, this.bundle.pems, this.held.spiffeId));
  }

  onWelcome(w: WelcomeMsg): void {
    if (this.closed) return;
    this.challenge = w.challenge ?? '';
    this.pending = undefined; // an answer cannot come on another session
    const pems = w.trustBundlePem ?? [];
    if (!this.held) {
      if (pems.length === 0) return this.fail('weftd sent no trust bundle: it has no CA (a weftd from before certificates); upgrade weftd or start the mesh without a token');
      if (!bundleHasCaHash(pems, this.opts.token.parts.caHash)) {
        return this.fail(
          `weftd's CA does not match the join token's CA hash (${this.opts.token.parts.caHash.slice(0, 16)}...): this is not the weftd that made the token, ` +
            'or its CA was replaced; the token was not sent. Check WEFT_CONTROL_PLANE, or create a new token on this weftd',
        );
      }
      this.bundle = { pems, version: w.bundleVersion ?? 0 };
      this.request({ token: this.opts.token.text });
      return;
    }
    if (!this.hasValidCertificate()) {
      // It expired while weftd was out of reach: the join token proves the identity again (if it is still
      // valid; weftd says so otherwise, and createMesh's token must be replaced by a restart with a new one).
      this.bundle = { pems, version: w.bundleVersion ?? 0 };
      this.material = null;
      this.opts.error(new Error(`the workload's certificate expired at ${this.held.notAfter.toISOString()} while weftd was out of reach; enrolling again with the join token`));
      this.pending = undefined;
      this.request({ token: this.opts.token.text });
      return;
    }
    // A restarted weftd: the bundle it sends must still vouch for the certificate held.
    const problem = chainProblem(this.held.chainPem, pems, this.held.spiffeId);
    if (problem) this.opts.error(new Error(`weftd's trust bundle (version ${w.bundleVersion}) does not verify this workload's certificate: ${problem}; keeping the bundle held`));
    else {
      if (pems.join('') !== this.bundle?.pems.join('')) this.material = null;
      this.bundle = { pems, version: w.bundleVersion ?? 0 };
    }
    if (Date.now() >= this.renewAt()) this.renew();
  }

  /**
   * A new trust bundle from weftd (a root rotation): trusted from now on (the next TLS handshakes, both
   * ways, use it). `renew`: the signing root changed, so renew now; and renew too if the bundle no longer
   * vouches for the certificate held (its root was dropped while this workload did not renew).
   */
  onBundle(msg: TrustBundleUpdateMsg): void {
    if (this.closed) return;
    if (msg.trustBundlePem.length === 0) throw new Error(`trust bundle version ${msg.bundleVersion} holds no root; keeping version ${this.bundle?.version ?? 0}`);
    this.bundle = { pems: msg.trustBundlePem, version: msg.bundleVersion };
    this.material = null;
    if (!this.held) return;
    const orphaned = chainProblem(this.held.chainPem, msg.trustBundlePem, this.held.spiffeId) !== undefined;
    if (msg.renew || orphaned) {
      this.pending = undefined; // a request in flight was for the old root: ask again
      this.renew();
    }
  }

  onCertificate(msg: CertificateMsg): void {
    const pending = this.pending;
    if (this.closed || !pending || msg.requestId !== pending.requestId) return;
    this.pending = undefined;
    const expected = `spiffe://${new URL(msg.spiffeId).host}/ns/${this.opts.namespace}/sa/${this.opts.serviceAccount}`;
    const problem = msg.spiffeId === expected ? chainProblem(msg.chainPem, msg.trustBundlePem, expected) : `it names ${msg.spiffeId}, not ${expected}`;
    if (problem || !this.held && !bundleHasCaHash(msg.trustBundlePem, this.opts.token.parts.caHash)) {
      const e = new Error(`weftd's certificate cannot be used: ${problem ?? "its bundle lost the join token's CA"}`);
      if (!this.held) return this.fail(e.message);
      this.opts.error(e);
      return this.scheduleRetry();
    }
    this.held = { key: pending.key, chainPem: msg.chainPem, spiffeId: msg.spiffeId, receivedAt: Date.now(), notAfter: new Date(msg.expiresMs) };
    this.bundle = { pems: msg.trustBundlePem, version: msg.bundleVersion };
    this.material = null;
    this.scheduleRenewal();
    this.first.resolve();
    this.opts.certified?.();
  }

  /** The session ended before the first certificate with weftd's refusal: createMesh fails with its reason. */
  onSessionEnded(reason: string): void {
    if (!this.held && /^(PERMISSION_DENIED|INVALID_ARGUMENT|UNIMPLEMENTED)\b/.test(reason)) this.fail(`weftd refused the workload's certificate: ${reason}`);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.renewTimer);
  }

  private renewAt(): number {
    const h = this.held!;
    return h.receivedAt + Math.max(0, h.notAfter.getTime() - h.receivedAt) * this.opts.renewFraction;
  }

  private scheduleRenewal(): void {
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => this.renew(), Math.max(0, this.renewAt() - Date.now()));
    this.renewTimer.unref();
  }

  private scheduleRetry(): void {
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => this.renew(), this.opts.retryMs ?? 1000);
    this.renewTimer.unref();
  }

  private renew(): void {
    if (this.closed || !this.held) return;
    if (this.pending && Date.now() - this.pending.sentAt < 10_000) return this.scheduleRetry();
    const key = createWorkloadKey();
    const proof = sign('sha256', renewalProofPayload(this.challenge, key.csrPem), this.held.key.privateKey);
    if (!this.challenge || !this.request({ currentChainPem: this.held.chainPem, proof }, key)) return this.scheduleRetry();
    this.scheduleRetry(); // until the answer comes: a session that breaks meanwhile loses it
  }

  private request(proof: { token?: string; currentChainPem?: string; proof?: Buffer }, key = createWorkloadKey()): boolean {
    const requestId = `c${++this.counter}`;
    const sent = this.opts.send({ requestId, csrPem: key.csrPem, token: proof.token ?? '', currentChainPem: proof.currentChainPem ?? '', proof: proof.proof ?? Buffer.alloc(0) });
    if (sent) this.pending = { key, requestId, sentAt: Date.now() };
    return sent;
  }

  private fail(message: string): void {
    const e = new Error(message);
    if (this.held) this.opts.error(e);
    else this.first.reject(e);
  }
}
