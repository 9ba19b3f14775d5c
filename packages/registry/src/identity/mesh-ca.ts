// weftd's CA: the root in <data-dir>/ca (created on first start, loaded after), or the operator's CA
// from --ca-cert/--ca-key (a root, or an intermediate with its chain). Either way one signer and one
// trust bundle, so the session server does not care which.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CaDirectory, CertificateAuthority, TrustBundle, type IssuedCertificate, type SpiffeId } from '@weft/ca';
import { caHashOfCertificate } from '@weft/api';

export interface MeshCaOptions {
  dataDir: string;
  trustDomain: string;
  /** The operator's CA certificate (with its chain up to the root appended) and key, PEM files. */
  caCertFile?: string;
  caKeyFile?: string;
}

export class MeshCa {
  private constructor(
    private readonly sign: (csrPem: string, id: SpiffeId, ttlSeconds: number) => Promise<IssuedCertificate>,
    private readonly currentBundle: () => TrustBundle,
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
      return new MeshCa(async (csr, id, ttlSeconds) => authority.signCsr(csr, id, { ttlSeconds }), () => bundle, `operator CA ${opts.caCertFile}`);
    }
    const dir = join(opts.dataDir, 'ca');
    const ca = await CaDirectory.open(dir, { trustDomain: opts.trustDomain });
    return new MeshCa((csr, id, ttlSeconds) => ca.signCsr(csr, id, { ttlSeconds }), () => ca.bundle, `CA in ${dir}`);
  }

  get bundle(): TrustBundle {
    return this.currentBundle();
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
    return this.sign(csrPem, id, ttlSeconds);
  }
}

async function readPem(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`${flag} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
