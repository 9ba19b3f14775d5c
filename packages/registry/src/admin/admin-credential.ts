// The admin credential: what weftctl (or any HTTPS client) presents to weftd's admin API, and what it
// needs to trust weftd. weftd writes it on first start to <data-dir>/admin.cred (mode 0600) and keeps
// it across restarts; the file holds a bearer token (256 random bits) and the mesh's trust bundle.
// weftd keeps the bundle in it current (a root rotation rewrites the file); a copy taken elsewhere must
// be taken again after a rotation. Requests carry `Authorization: Bearer <token>`; weftd compares a
// hash of it in constant time.
//
//   { "kind": "WeftAdminCredential", "version": 1, "token": "weftadm1.<base64url>", "caPem": "-----BEGIN ..." }
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@weft/ca';

export const ADMIN_CREDENTIAL_FILE = 'admin.cred';
const KIND = 'WeftAdminCredential';
const TOKEN_PREFIX = 'weftadm1.';

export interface AdminCredential {
  token: string;
  /** The roots weftd's certificate chains to (PEM). */
  caPem: string;
}

/** weftctl's side: reads a copy of the credential; every problem names the file and says to take it again. */
export async function readAdminCredential(path: string): Promise<AdminCredential> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${path}: cannot read the admin credential (${code === 'ENOENT' ? 'no such file' : code ?? (e as Error).message})`);
  }
  try {
    return parseAdminCredential(text, path);
  } catch (e) {
    throw new Error(`${(e as Error).message}; take weftd's <data-dir>/${ADMIN_CREDENTIAL_FILE} again`);
  }
}

/** The credential in `text`, or an error that names `source` and the field that is wrong. */
export function parseAdminCredential(text: string, source: string): AdminCredential {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not an admin credential (not JSON: ${(e as Error).message})`);
  }
  const j = json as Record<string, unknown>;
  if (typeof j !== 'object' || j === null || j.kind !== KIND || j.version !== 1) throw new Error(`${source}: not a weft admin credential of version 1 (kind ${KIND})`);
  if (typeof j.token !== 'string' || !j.token.startsWith(TOKEN_PREFIX) || j.token.length < TOKEN_PREFIX.length + 40) throw new Error(`${source}: token: expected ${TOKEN_PREFIX}<43 characters>`);
  if (typeof j.caPem !== 'string' || !j.caPem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`${source}: caPem: expected the mesh's root certificates (PEM)`);
  return { token: j.token, caPem: j.caPem };
}

/** weftd's side: the credential in the data dir, created on first start, and the check of each request. */
export class AdminCredentialFile {
  private constructor(
    readonly path: string,
    private readonly token: string,
    private caPem: string,
    private readonly tokenHash: Buffer,
  ) {}

  /**
   * Loads <dataDir>/admin.cred, or writes a new one when there is no such file (and only then: a file
   * that is there but unreadable, damaged or readable by others stops weftd, since replacing it would
   * silently lock out every copy of it); `created` says which.
   */
  static async open(dataDir: string, caPem: string): Promise<{ file: AdminCredentialFile; created: boolean }> {
    const path = join(dataDir, ADMIN_CREDENTIAL_FILE);
    const existing = await readOwnCredential(path);
    const token = existing?.token ?? TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const file = new AdminCredentialFile(path, token, existing?.caPem ?? '', hash(token));
    if (!existing || existing.caPem !== caPem) await file.setCa(caPem);
    return { file, created: !existing };
  }

  /** Rewrites the file with the current roots (after a rotation). */
  async setCa(caPem: string): Promise<void> {
    this.caPem = caPem;
    const body = { kind: KIND, version: 1, token: this.token, caPem };
    await writeFileAtomic(this.path, JSON.stringify(body, null, 2) + '\n', 0o600);
  }

  /** What is wrong with a request's Authorization header, or undefined when it carries the credential. */
  check(authorization: string | undefined): string | undefined {
    if (!authorization) return 'this request carries no admin credential (Authorization: Bearer <token of <data-dir>/admin.cred>); weftctl reads it from --credentials, WEFT_CREDENTIALS or .weft-data/admin.cred';
    const m = /^Bearer +(\S+)$/i.exec(authorization);
    if (!m) return 'the Authorization header is not "Bearer <token>"';
    return timingSafeEqual(hash(m[1]!), this.tokenHash) ? undefined : "the admin credential is not this weftd's (wrong token): use the admin.cred of the weftd you are talking to";
  }
}

/** What weftd does with a credential file it cannot use: never replace it by itself. */
const KEEP_OR_RENEW = `weftd does not replace it by itself: restore it, or delete it and restart weftd for a new one (every copy of the old one then stops working)`;

/** weftd's own credential file: undefined when there is none, else its content, else an error naming the file. */
async function readOwnCredential(path: string): Promise<AdminCredential | undefined> {
  let st: Stats;
  try {
    st = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new Error(`${path}: cannot look at the admin credential (${code ?? (e as Error).message}); check the permissions of the data dir`);
  }
  if (!st.isFile()) throw new Error(`${path}: the admin credential is not a regular file; ${KEEP_OR_RENEW}`);
  if ((st.mode & 0o077) !== 0) {
    throw new Error(`${path}: mode ${(st.mode & 0o777).toString(8).padStart(4, '0')} lets others read the admin credential; chmod 600 it (and consider it leaked: delete it and restart weftd for a new one)`);
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read the admin credential (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check its owner and the user weftd runs as`);
  }
  try {
    return parseAdminCredential(text, path);
  } catch (e) {
    throw new Error(`${(e as Error).message}; ${KEEP_OR_RENEW}`);
  }
}

function hash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
