// The set of roots a workload trusts, versioned so the SDK can tell a new bundle from the one it has.
// Root rotation in three steps: `rotateTo(newRoot)` adds the new root and makes it the one that signs;
// the old root stays while any certificate it signed may still be in use (`issuedUntil`, the latest
// expiry issued under it); `prune(now)` drops it after that. Immutable: each change is a new bundle.
import { CaError } from './errors.js';
import { readCertificatesPem, type CertificateInfo } from './certificate-reader.js';
import { validateTrustDomain } from './spiffe.js';

export interface BundleRoot {
  readonly certificate: CertificateInfo;
  readonly addedAt: Date;
  /**
   * No certificate issued under this root expires after this (null: none issued, as far as the bundle
   * knows). An upper bound: it may be later than the latest real expiry, never earlier.
   */
  readonly issuedUntil: Date | null;
}

export interface TrustBundleJson {
  format: 1;
  trustDomain: string;
  version: number;
  active: string;
  /** A root added by a rotation begun and not completed (absent: none). */
  pending?: string;
  roots: Array<{ fingerprint: string; certificate: string; addedAt: string; issuedUntil: string | null }>;
}

export class TrustBundle {
  private constructor(
    readonly trustDomain: string,
    readonly version: number,
    /** Fingerprint of the root that signs now. */
    readonly activeFingerprint: string,
    readonly roots: readonly BundleRoot[],
    /** Fingerprint of a root a rotation added and has not made active yet. */
    readonly pendingFingerprint?: string,
  ) {
    Object.freeze(this);
  }

  static create(trustDomain: string, root: CertificateInfo, now = new Date()): TrustBundle {
    validateTrustDomain(trustDomain);
    checkRoot(root);
    return new TrustBundle(trustDomain, 1, root.fingerprint, Object.freeze([Object.freeze({ certificate: root, addedAt: now, issuedUntil: null })]));
  }

  get active(): BundleRoot {
    return this.roots.find((r) => r.certificate.fingerprint === this.activeFingerprint)!;
  }

  /** The roots as one PEM text, newest first: what a TLS `ca` option takes. */
  get pem(): string {
    return [...this.roots].reverse().map((r) => r.certificate.pem).join('');
  }

  root(fingerprint: string): BundleRoot | undefined {
    return this.roots.find((r) => r.certificate.fingerprint === fingerprint);
  }

  /**
   * Adds `root` without making it the active one: the first step of a rotation, so that every workload
   * trusts the new root before any certificate it signs is in use. A root already held: the same bundle.
   */
  withRoot(root: CertificateInfo, now = new Date()): TrustBundle {
    checkRoot(root);
    if (this.root(root.fingerprint)) return this;
    return new TrustBundle(this.trustDomain, this.version + 1, this.activeFingerprint, Object.freeze([...this.roots, Object.freeze({ certificate: root, addedAt: now, issuedUntil: null })]), root.fingerprint);
  }

  /**
   * Adds `root` (if new) and makes it the active one. The old roots stay until `prune` drops them.
   * `finalIssuedUntil`, when given, is the exact latest expiry the outgoing root issued (it never signs
   * again, so the slack an upper bound carried can go).
   */
  rotateTo(root: CertificateInfo, now = new Date(), finalIssuedUntil?: Date | null): TrustBundle {
    checkRoot(root);
    const settled = finalIssuedUntil === undefined ? this.roots : this.roots.map((r) => (r === this.active ? Object.freeze({ ...r, issuedUntil: finalIssuedUntil }) : r));
    const roots = this.root(root.fingerprint) ? settled : [...settled, Object.freeze({ certificate: root, addedAt: now, issuedUntil: null })];
    return new TrustBundle(this.trustDomain, this.version + 1, root.fingerprint, Object.freeze(roots));
  }

  /**
   * Notes that a certificate valid until `notAfter` was issued under root `fingerprint`. Returns the
   * same bundle when the root's issuedUntil already covers it (the common case: nothing to persist).
   */
  recordIssued(fingerprint: string, notAfter: Date): TrustBundle {
    const root = this.root(fingerprint);
    if (!root) throw new CaError('INVALID_CA', `root ${fingerprint} is not in trust bundle version ${this.version}`);
    if (root.issuedUntil && root.issuedUntil >= notAfter) return this;
    const roots = this.roots.map((r) => (r === root ? Object.freeze({ ...r, issuedUntil: notAfter }) : r));
    // The set of roots is the same: workloads need no new bundle, so the version stays.
    return new TrustBundle(this.trustDomain, this.version, this.activeFingerprint, Object.freeze(roots), this.pendingFingerprint);
  }

  /**
   * Roots that no longer sign and under which nothing issued is still valid at `now`. A root added after
   * the active one (a rotation begun, not yet completed) is pending, never retired.
   */
  retired(now = new Date()): BundleRoot[] {
    return this.outgoing().filter((r) => (r.issuedUntil === null || r.issuedUntil < now) || r.certificate.notAfter < now);
  }

  /** The root a rotation added and has not made active yet (undefined: none). */
  get pending(): BundleRoot | undefined {
    return this.pendingFingerprint === undefined ? undefined : this.root(this.pendingFingerprint);
  }

  /** When the next outgoing root may be dropped: the earliest issuedUntil of the roots that no longer sign. */
  nextRetirement(): Date | undefined {
    const times = this.outgoing().map((r) => Math.min(r.issuedUntil?.getTime() ?? 0, r.certificate.notAfter.getTime()));
    return times.length ? new Date(Math.min(...times)) : undefined;
  }

  /** Roots that signed once and sign no more (neither the active one nor a pending one). */
  private outgoing(): BundleRoot[] {
    return this.roots.filter((r) => r.certificate.fingerprint !== this.activeFingerprint && r.certificate.fingerprint !== this.pendingFingerprint);
  }

  /** Drops the retired roots (a new version), or returns this bundle when there are none. */
  prune(now = new Date()): TrustBundle {
    const retired = new Set(this.retired(now));
    if (retired.size === 0) return this;
    return new TrustBundle(this.trustDomain, this.version + 1, this.activeFingerprint, Object.freeze(this.roots.filter((r) => !retired.has(r))), this.pendingFingerprint);
  }

  toJSON(): TrustBundleJson {
    return {
      format: 1,
      trustDomain: this.trustDomain,
      version: this.version,
      active: this.activeFingerprint,
      ...(this.pendingFingerprint !== undefined ? { pending: this.pendingFingerprint } : {}),
      roots: this.roots.map((r) => ({ fingerprint: r.certificate.fingerprint, certificate: r.certificate.pem, addedAt: r.addedAt.toISOString(), issuedUntil: r.issuedUntil?.toISOString() ?? null })),
    };
  }

  /** Reads what `toJSON` wrote; `source` (a file name) heads every error. */
  static fromJSON(json: unknown, source: string): TrustBundle {
    const fail = (what: string): never => {
      throw new CaError('CA_FILE', `${source}: ${what}`);
    };
    const j = json as Partial<TrustBundleJson>;
    if (typeof j !== 'object' || j === null || j.format !== 1) fail('not a trust bundle of format 1');
    if (typeof j.trustDomain !== 'string') fail('trustDomain: expected a string');
    try {
      validateTrustDomain(j.trustDomain!);
    } catch (e) {
      fail(`trustDomain: ${(e as Error).message}`);
    }
    if (!Number.isSafeInteger(j.version) || j.version! < 1) fail('version: expected a positive integer');
    if (!Array.isArray(j.roots) || j.roots.length === 0) fail('roots: expected a non-empty list');
    const roots = j.roots!.map((r, i): BundleRoot => {
      const at = `roots[${i}]`;
      if (typeof r !== 'object' || r === null || typeof r.certificate !== 'string') fail(`${at}.certificate: expected PEM text`);
      const certs = readCertificatesPem(r.certificate, `${source}: ${at}.certificate`, 'CA_FILE');
      if (certs.length !== 1) fail(`${at}.certificate: expected one certificate, found ${certs.length}`);
      const certificate = certs[0]!;
      if (r.fingerprint !== certificate.fingerprint) fail(`${at}.fingerprint: ${JSON.stringify(r.fingerprint)} is not the certificate's (${certificate.fingerprint}); the file was edited or damaged`);
      return Object.freeze({ certificate, addedAt: readDate(r.addedAt, `${at}.addedAt`, fail), issuedUntil: r.issuedUntil === null ? null : readDate(r.issuedUntil, `${at}.issuedUntil`, fail) });
    });
    if (!roots.some((r) => r.certificate.fingerprint === j.active)) fail(`active: ${JSON.stringify(j.active)} is not the fingerprint of any root in the file`);
    if (j.pending !== undefined && (j.pending === j.active || !roots.some((r) => r.certificate.fingerprint === j.pending))) {
      fail(`pending: ${JSON.stringify(j.pending)} is not the fingerprint of a root of the file other than the active one`);
    }
    return new TrustBundle(j.trustDomain!, j.version!, j.active!, Object.freeze(roots), j.pending);
  }
}

function readDate(value: unknown, field: string, fail: (what: string) => never): Date {
  const d = typeof value === 'string' ? new Date(value) : new Date(NaN);
  if (Number.isNaN(d.getTime())) fail(`${field}: expected an ISO date, got ${JSON.stringify(value)}`);
  return d;
}

function checkRoot(root: CertificateInfo): void {
  if (!root.isCa || !root.x509.checkIssued(root.x509) || !root.x509.verify(root.x509.publicKey)) {
    throw new CaError('INVALID_CA', `a trust bundle holds self-signed CA certificates; ${root.x509.subject} is not one`);
  }
}
