// The PEM files a DestinationRule names for TLS origination (clientCertificate, privateKey,
// caCertificates, caCrl): paths on this workload's machine, as in Istio they are paths in the sidecar.
// They are read when a connection needs them and cached by path, file identity, size and times, so a
// rotated file (written in place or renamed over) is read again by the next connection and an unchanged
// one costs a stat. A file that is missing, unreadable, too large or not the PEM it should be fails with
// a message naming the rule, the field and the path; it never fails the config (another machine may
// have the file, and the rest of the config must stay in force).
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';

export type PemKind = 'certificate' | 'key' | 'crl';

/** The `code` of an error about the TLS settings of a DestinationRule (a file, or what they make together). */
export const TLS_SETTINGS_ERROR = 'ERR_WEFT_TLS_SETTINGS';

/** A CA bundle of every public root is ~250 KB; more than this is not a PEM file meant for TLS. */
export const MAX_PEM_BYTES = 4 * 1024 * 1024;
/** Distinct paths remembered; a config naming more just reads them again. */
const MAX_CACHED_PATHS = 256;

export interface PemFile {
  readonly pem: string;
  /** Changes whenever the file does (identity, size, modification and change times). */
  readonly version: string;
}

export function tlsSettingsError(message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code: TLS_SETTINGS_ERROR });
}

const WHAT: Record<PemKind, string> = {
  certificate: 'PEM certificates (-----BEGIN CERTIFICATE-----)',
  key: 'an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----, or EC / RSA PRIVATE KEY)',
  crl: 'PEM certificate revocation lists (-----BEGIN X509 CRL-----)',
};

export class PemFiles {
  private readonly files = new Map<string, PemFile>();

  /**
   * The content of `path`, read again when the file changed since the last call. `where` names the
   * field for messages (`DestinationRule shop/ext: spec.trafficPolicy.tls.caCertificates`).
   */
  async read(path: string, kind: PemKind, where: string): Promise<PemFile> {
    const fail = (problem: string, cause?: unknown): never => {
      this.files.delete(path);
      throw tlsSettingsError(`${where}: ${path}: ${problem}`, cause);
    };
    let info;
    try {
      info = await stat(path);
    } catch (e) {
      return fail(ioProblem(e), e);
    }
    if (!info.isFile()) return fail('is not a file');
    if (info.size > MAX_PEM_BYTES) return fail(`is ${info.size} bytes; a PEM file for TLS is at most ${MAX_PEM_BYTES}`);
    const version = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
    const cached = this.files.get(path);
    if (cached?.version === version) return cached;
    let pem: string;
    try {
      pem = await readFile(path, 'utf8');
    } catch (e) {
      return fail(ioProblem(e), e);
    }
    const problem = pemProblem(pem, kind);
    if (problem) return fail(`${problem}; it must hold ${WHAT[kind]}`);
    const file = Object.freeze({ pem, version });
    if (this.files.size >= MAX_CACHED_PATHS) this.files.clear();
    this.files.set(path, file);
    return file;
  }
}

function ioProblem(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (code === 'ENOENT') return 'no such file (ENOENT)';
  if (code === 'EACCES' || code === 'EPERM') return `this process may not read it (${code}); check its owner and mode`;
  if (code === 'EISDIR') return 'is a directory, not a file';
  return `cannot be read: ${(e as Error).message}`;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

/** Why `pem` is not what a field of this kind needs, or undefined. */
export function pemProblem(pem: string, kind: PemKind): string | undefined {
  const blocks = [...pem.matchAll(BLOCK)];
  if (blocks.length === 0) return 'holds no PEM block';
  if (kind === 'key') {
    if (blocks.some((b) => b[1] === 'ENCRYPTED PRIVATE KEY' || /Proc-Type: 4,ENCRYPTED/.test(b[0]))) return 'holds an encrypted private key; Weft has no passphrase to open it';
    try {
      createPrivateKey(pem);
    } catch (e) {
      return `holds no private key Node can read (${(e as Error).message})`;
    }
    return undefined;
  }
  const label = kind === 'certificate' ? 'CERTIFICATE' : 'X509 CRL';
  const wanted = blocks.filter((b) => b[1] === label);
  if (wanted.length === 0) return `holds no ${label} block (found ${[...new Set(blocks.map((b) => b[1]))].join(', ')})`;
  if (kind === 'certificate') {
    for (const [i, b] of wanted.entries()) {
      try {
        new X509Certificate(b[0]);
      } catch (e) {
        return `certificate ${i + 1} of the file cannot be parsed (${(e as Error).message})`;
      }
    }
  }
  return undefined;
}
