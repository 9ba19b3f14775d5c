// weftd's CA: the root in <data-dir>/ca (created on first start, loaded after), or the operator's CA
// from --ca-cert/--ca-key (a root, or an intermediate with its chain). Either way one signer and one
// trust bundle, so the session server does not care which.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { CaDirectory, CertificateAuthority, TrustBundle, type IssuedCertificate, type ServerCertificateOptions, type SpiffeId } from '@weft/ca';
import { caHashOfCertificate } from '@weft/api';

export interface MeshCaOptions {
  dataDir: string;
  trustDomain: string;
  /** The operator's CA certificate (with its chain up to the root appended) and key, PEM files. */
  caCertFile?: string;
  caKeyFile?: string;
}

/** What changed in the bundle: a root to trust, the root that signs, or a root gone. */
export type BundleChange = 'root-added' | 'root-activated' | 'root-dropped';

interface Signer {
  signCsr(csrPem: string, id: SpiffeId, ttlSeconds: number): Promise<IssuedCertificate>;
  issueServer(options: ServerCertificateOptions): Promise<IssuedCertificate>;
  bundle(): TrustBundle;
  /** Only for the CA in the data dir: an operator's CA is rotated by its operator. */
  directory?: CaDirectory;
}

export class MeshCa {
  private readonly bundleListeners = new Set<(bundle: TrustBundle, change: BundleChange) => void>();

  private constructor(
    private readonly signer: Signer,
    /** Where the CA comes from, for the startup line. */
    readonly source: string,
  ) {}

  static async open(opts: MeshCaOptions): Promise<MeshCa> {
    if (opts.caCertFile || opts.caKeyFile) {
      if (!opts.caCertFile || !opts.caKeyFile) throw new Error('--ca-cert and --ca-key go together: give both files, or neither to use the CA in the data dir');
      const cert = await readPem(opts.caCertFile, '--ca-cert');
      const key = await readPem(opts.caKeyFile, '--ca-key');
      const authority = CertificateAuthority.fromPem({ cert, key, trustDomain: opts.trustDomain, sources: { cert: opts.caCertFile, key: opts.caKeyFile } });
      const bundle = TrustBundle.create(authority.trustDomain, authority.root);
      return new MeshCa(
        { signCsr: async (csr, id, ttlSeconds) => authority.signCsr(csr, id, { ttlSeconds }), issueServer: async (o) => authority.issueServerCertificate(o), bundle: () => bundle },
        `operator CA ${opts.caCertFile}`,
      );
    }
    const dir = join(opts.dataDir, 'ca');
    const ca = await CaDirectory.open(dir, { trustDomain: opts.trustDomain });
    return new MeshCa(
      { signCsr: (csr, id, ttlSeconds) => ca.signCsr(csr, id, { ttlSeconds }), issueServer: (o) => ca.issueServerCertificate(o), bundle: () => ca.bundle, directory: ca },
      `CA in ${dir}`,
    );
  }

  get bundle(): TrustBundle {
    return this.signer.bundle();
  }

  /** Called with each new bundle (a rotation, a root dropped): weftd pushes it and re-serves its own certificate. */
  onBundleChange(listener: (bundle: TrustBundle, change: BundleChange) => void): () => void {
    this.bundleListeners.add(listener);
    return () => this.bundleListeners.delete(listener);
  }

  /** Whether `weftctl ca rotate` can work here (the CA in the data dir; an operator's CA is rotated by its operator). */
  get rotatable(): boolean {
    return this.signer.directory !== undefined;
  }

  /** A rotation's first step: a new root in the bundle, not signing yet (see root-rotation.ts). */
  async beginRotation(): Promise<TrustBundle> {
    const dir = this.directory();
    const before = dir.bundle.version;
    const bundle = await dir.beginRotation();
    if (bundle.version !== before) this.changed(bundle, 'root-added');
    return bundle;
  }

  /** A rotation's second step: the new root signs; workloads are asked to renew. */
  async completeRotation(): Promise<TrustBundle> {
    const bundle = await this.directory().completeRotation();
    this.changed(bundle, 'root-activated');
    return bundle;
  }

  /** A rotation begun and not completed (after a restart, too). */
  get rotationPending(): boolean {
    return this.signer.directory?.pendingRoot !== undefined;
  }

  private directory(): CaDirectory {
    const dir = this.signer.directory;
    if (!dir) throw new Error(`${this.source} is the operator's: rotate it by restarting weftd with the new files (--ca-cert, --ca-key)`);
    return dir;
  }

  /** Drops roots under which nothing valid remains; tells the listeners when one went. */
  async prune(now = new Date()): Promise<number> {
    const dir = this.signer.directory;
    if (!dir) return 0;
    const dropped = await dir.prune(now);
    if (dropped.length > 0) this.changed(dir.bundle, 'root-dropped');
    return dropped.length;
  }

  /** A server certificate for weftd itself (`publicKey` is weftd's own key). */
  issueServerCertificate(publicKey: KeyObject, id: string, dnsNames: string[], ipAddresses: string[], ttlSeconds: number): Promise<IssuedCertificate> {
    return this.signer.issueServer({ publicKey, id, dnsNames, ipAddresses, ttlSeconds });
  }

  private changed(bundle: TrustBundle, change: BundleChange): void {
    for (const l of this.bundleListeners) l(bundle, change);
  }

  get trustDomain(): string {
    return this.bundle.trustDomain;
  }

  /** The roots as separate PEM texts, newest first, as the session protocol carries them. */
  bundlePems(): string[] {
    return [...this.bundle.roots].reverse().map((r) => r.certificate.pem);
  }

  /** What a join token carries: the hash of the root that signs now. */
  caHash(): string {
    return caHashOfCertificate(this.bundle.active.certificate.pem);
  }

  signCsr(csrPem: string, id: SpiffeId, ttlSeconds: number): Promise<IssuedCertificate> {
    return this.signer.signCsr(csrPem, id, ttlSeconds);
  }
}

async function readPem(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`${flag} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
