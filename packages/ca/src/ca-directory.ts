// The mesh CA kept in a directory (weftd's data dir): the active root's key and certificate and the
// trust bundle with its rotation state. trust-bundle.json is the commit point: a rotation writes the new
// root's files first and then the bundle that names it, so a crash in between leaves the old CA whole.
//
//   <dir>/trust-bundle.json          roots, the active one, each root's issuedUntil   (0644)
//   <dir>/root-<id>-cert.pem         the active root's certificate                    (0644)
//   <dir>/root-<id>-key.pem          the active root's key                            (0600)
import { mkdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CertificateAuthority, type IssuedCertificate, type ServerCertificateOptions, type SignOptions } from './authority.js';
import { readPrivateFile, readText, writeFileAtomic } from './atomic-file.js';
import { CaError, isCaError } from './errors.js';
import type { KeyAlgorithm } from './key-algorithm.js';
import type { SpiffeId } from './spiffe.js';
import { TrustBundle, type BundleRoot } from './trust-bundle.js';

export const TRUST_BUNDLE_FILE = 'trust-bundle.json';

export interface CaDirectoryOptions {
  /** Default cluster.local. A directory made for another trust domain is refused. */
  trustDomain?: string;
  /** For a new root (creation and rotation). Default EC P-256. */
  keyAlgorithm?: KeyAlgorithm;
  /** For a new root. Default 10 years. */
  rootValiditySeconds?: number;
  maxTtlSeconds?: number;
  now?: Date;
}

const rootFiles = (dir: string, fingerprint: string) => ({
  cert: join(dir, `root-${fingerprint.slice(0, 16)}-cert.pem`),
  key: join(dir, `root-${fingerprint.slice(0, 16)}-key.pem`),
});

export class CaDirectory {
  private queue: Promise<unknown> = Promise.resolve();
  /** The new root of a rotation begun and not completed: trusted by workloads, not yet signing. */
  private pending: CertificateAuthority | undefined;
  /** The active root's issuedUntil when this process took it over: covers what earlier processes issued. */
  private issuedBeforeOpen: Date | null;

  private constructor(
    readonly dir: string,
    private current: CertificateAuthority,
    private trust: TrustBundle,
    private readonly options: CaDirectoryOptions,
  ) {
    this.issuedBeforeOpen = trust.active.issuedUntil;
  }

  /** Opens the CA in `dir`, creating the directory (0700) and a new root when it holds none yet. */
  static async open(dir: string, options: CaDirectoryOptions = {}): Promise<CaDirectory> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (await exists(join(dir, TRUST_BUNDLE_FILE))) return CaDirectory.load(dir, options);
    const now = options.now ?? new Date();
    const authority = createRoot(options, now);
    const bundle = TrustBundle.create(authority.trustDomain, authority.root, now);
    const ca = new CaDirectory(dir, authority, bundle, options);
    await ca.writeRoot(authority);
    await ca.writeBundle(bundle);
    return ca;
  }

  /** Loads the CA of `dir`; every problem names the file and what to do. */
  static async load(dir: string, options: CaDirectoryOptions = {}): Promise<CaDirectory> {
    const bundlePath = join(dir, TRUST_BUNDLE_FILE);
    const text = await readText(bundlePath);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new CaError('CA_FILE', `${bundlePath}: not valid JSON (${(e as Error).message}); restore it from a backup`, { cause: e });
    }
    const bundle = TrustBundle.fromJSON(json, bundlePath);
    if (options.trustDomain !== undefined && options.trustDomain !== bundle.trustDomain) {
      throw new CaError('CA_FILE', `${bundlePath}: the CA in ${dir} is for trust domain "${bundle.trustDomain}", not "${options.trustDomain}"; use that trust domain, or another directory for a new CA`);
    }
    const files = rootFiles(dir, bundle.activeFingerprint);
    const [certPem, keyPem] = [await readText(files.cert), await readPrivateFile(files.key)];
    let authority: CertificateAuthority;
    try {
      authority = CertificateAuthority.fromPem({
        cert: certPem,
        key: keyPem,
        trustDomain: bundle.trustDomain,
        maxTtlSeconds: options.maxTtlSeconds,
        now: options.now,
        sources: { cert: files.cert, key: files.key },
      });
    } catch (e) {
      // The messages already name the file; the code says it is the directory's content that is wrong.
      if (isCaError(e) && e.code === 'INVALID_CA') throw new CaError('CA_FILE', e.message, { cause: e });
      throw e;
    }
    if (authority.root.fingerprint !== bundle.activeFingerprint) {
      throw new CaError('CA_FILE', `${files.cert}: this is not the root ${bundlePath} names as active (${bundle.activeFingerprint}); the file was replaced`);
    }
    const ca = new CaDirectory(dir, authority, bundle, options);
    const pending = bundle.pending;
    if (pending) {
      // A rotation begun before a restart: its root's key is kept until it completes.
      const pf = rootFiles(dir, pending.certificate.fingerprint);
      ca.pending = CertificateAuthority.fromPem({
        cert: await readText(pf.cert),
        key: await readPrivateFile(pf.key),
        trustDomain: bundle.trustDomain,
        maxTtlSeconds: options.maxTtlSeconds,
        now: options.now,
        sources: { cert: pf.cert, key: pf.key },
      });
    }
    return ca;
  }

  get authority(): CertificateAuthority {
    return this.current;
  }

  get bundle(): TrustBundle {
    return this.trust;
  }

  /** Signs as `CertificateAuthority.signCsr`, and keeps the bundle's issuedUntil ahead of what it issued. */
  async signCsr(csrPem: string, id: SpiffeId | string, options: SignOptions = {}): Promise<IssuedCertificate> {
    return this.recorded(this.current.signCsr(csrPem, id, options));
  }

  async issueServerCertificate(options: ServerCertificateOptions): Promise<IssuedCertificate> {
    return this.recorded(this.current.issueServerCertificate(options));
  }

  /**
   * Makes a new root the one that signs. The old root stays in the bundle (so certificates it signed
   * keep verifying) until `prune` finds that all of them expired. Returns the new bundle: push it to the
   * workloads, then re-issue their certificates.
   */
  async rotate(options: { now?: Date } = {}): Promise<TrustBundle> {
    await this.beginRotation(options);
    return this.completeRotation(options);
  }

  /**
   * The first step of a rotation: a new root, in the bundle but not signing yet. Push the bundle, wait
   * until the workloads hold it, then `completeRotation`. A rotation already begun: its bundle as is.
   */
  async beginRotation(options: { now?: Date } = {}): Promise<TrustBundle> {
    return this.serially(async () => {
      if (this.pending) return this.trust;
      const now = options.now ?? new Date();
      const next = createRoot({ ...this.options, trustDomain: this.current.trustDomain }, now);
      await this.writeRoot(next);
      const bundle = this.trust.withRoot(next.root, now);
      await this.writeBundle(bundle);
      this.pending = next;
      this.trust = bundle;
      return bundle;
    });
  }

  /** The root of a rotation begun and not completed, if any. */
  get pendingRoot(): BundleRoot | undefined {
    return this.pending && this.trust.root(this.pending.root.fingerprint);
  }

  /** Makes the pending root the one that signs (see `rotate`). */
  async completeRotation(options: { now?: Date } = {}): Promise<TrustBundle> {
    return this.serially(async () => {
      const next = this.pending;
      if (!next) throw new CaError('INVALID_CA', 'no rotation was begun: call beginRotation first');
      const now = options.now ?? new Date();
      const old = this.current;
      const latest = [this.issuedBeforeOpen, old.latestIssuedNotAfter].filter((d): d is Date => d !== null);
      const issuedUntil = latest.length ? new Date(Math.max(...latest.map((d) => d.getTime()))) : null;
      const bundle = this.trust.rotateTo(next.root, now, issuedUntil);
      await this.writeBundle(bundle);
      this.current = next;
      this.pending = undefined;
      this.trust = bundle;
      this.issuedBeforeOpen = null;
      // The old key never signs again: it is not kept.
      const files = rootFiles(this.dir, old.root.fingerprint);
      await Promise.all([unlink(files.key), unlink(files.cert)].map((p) => p.catch(() => undefined)));
      return bundle;
    });
  }

  /** Drops the roots under which nothing valid remains; returns them (empty: nothing changed). */
  async prune(now = new Date()): Promise<BundleRoot[]> {
    return this.serially(async () => {
      const retired = this.trust.retired(now);
      if (retired.length === 0) return [];
      const bundle = this.trust.prune(now);
      await this.writeBundle(bundle);
      this.trust = bundle;
      return retired;
    });
  }

  private async recorded(issued: IssuedCertificate): Promise<IssuedCertificate> {
    const root = this.trust.root(issued.rootFingerprint);
    if (root?.issuedUntil && root.issuedUntil >= issued.notAfter) return issued;
    // Persist before handing the certificate out, with one more lifetime of slack: the file then only
    // changes about once per certificate lifetime, not at every signing.
    const ahead = new Date(issued.notAfter.getTime() + (issued.notAfter.getTime() - issued.notBefore.getTime()));
    await this.serially(async () => {
      const bundle = this.trust.recordIssued(issued.rootFingerprint, ahead);
      if (bundle === this.trust) return;
      await this.writeBundle(bundle);
      this.trust = bundle;
    });
    return issued;
  }

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async writeRoot(authority: CertificateAuthority): Promise<void> {
    const files = rootFiles(this.dir, authority.root.fingerprint);
    await writeFileAtomic(files.key, authority.privateKeyPem(), 0o600);
    await writeFileAtomic(files.cert, authority.root.pem, 0o644);
  }

  private async writeBundle(bundle: TrustBundle): Promise<void> {
    await writeFileAtomic(join(this.dir, TRUST_BUNDLE_FILE), JSON.stringify(bundle.toJSON(), null, 2) + '\n', 0o644);
  }
}

function createRoot(options: CaDirectoryOptions, now: Date): CertificateAuthority {
  return CertificateAuthority.createRoot({
    trustDomain: options.trustDomain,
    keyAlgorithm: options.keyAlgorithm,
    validitySeconds: options.rootValiditySeconds,
    maxTtlSeconds: options.maxTtlSeconds,
    now,
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new CaError('CA_FILE', `${path}: cannot read it (${(e as Error).message})`, { cause: e });
  }
}

