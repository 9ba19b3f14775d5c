// Join tokens, kept in <data-dir>/join-tokens.json. Only a SHA-256 of each secret is stored, so the
// file (or a backup of it) cannot be used to enrol a workload.
//
// Not in the config store, on purpose: everything in the FileStore is config that weftd pushes to
// every workload and lists with `weftctl get`, and each write moves the config revision all sessions
// follow. Tokens are secrets of weftd alone, so they live in one small file, replaced durably (temp
// file, fsync, rename, fsync of the directory) on each change: a crash leaves the old or the new list.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { MAX_JOIN_TOKENS } from '@weft/api';
import { replaceFileDurably } from '../store/durable-file.js';

export const JOIN_TOKENS_FILE = 'join-tokens.json';
/** Expired and revoked tokens stay listed this long after they stopped working, then are pruned. */
export const TOKEN_RETENTION_MS = 24 * 3600 * 1000;

export interface JoinTokenRecord {
  id: string;
  namespace: string;
  serviceAccount: string;
  createdMs: number;
  expiresMs: number;
  revoked: boolean;
  /** SHA-256 of the secret, hex. */
  secretHash: string;
}

/** Why a token does not prove an identity; each has its own message for the workload. */
export type TokenRejection = 'UNKNOWN' | 'EXPIRED' | 'REVOKED' | 'WRONG_SECRET';

export type TokenCheck = { ok: true; record: JoinTokenRecord } | { ok: false; reason: TokenRejection; message: string };

export class JoinTokenStore {
  private readonly tokens = new Map<string, JoinTokenRecord>();
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(private readonly dataDir: string) {}

  static async open(dataDir: string): Promise<JoinTokenStore> {
    const store = new JoinTokenStore(dataDir);
    const path = `${dataDir}/${JOIN_TOKENS_FILE}`;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw new Error(`${path}: cannot read the join tokens (${(e as Error).message})`);
    }
    let records: unknown;
    try {
      records = (JSON.parse(text) as { tokens?: unknown }).tokens;
      if (!Array.isArray(records)) throw new Error('"tokens" is not a list');
    } catch (e) {
      throw new Error(`${path}: not a join token file (${(e as Error).message}); restore it from a backup, or delete it to revoke every token`);
    }
    for (const r of records as JoinTokenRecord[]) store.tokens.set(r.id, r);
    return store;
  }

  /** Creates a token for one identity; returns its record and its secret (shown once, never stored). */
  async create(identity: { namespace: string; serviceAccount: string }, ttlMs: number, now = Date.now()): Promise<{ record: JoinTokenRecord; secret: string }> {
    this.prune(now);
    if (this.tokens.size >= MAX_JOIN_TOKENS) {
      throw new Error(`weftd holds ${this.tokens.size} join tokens, the most it keeps (MAX_JOIN_TOKENS); revoke unused ones with 'weftctl token revoke ID'`);
    }
    const secret = randomBytes(32).toString('base64url');
    const record: JoinTokenRecord = {
      id: randomBytes(8).toString('hex'),
      namespace: identity.namespace,
      serviceAccount: identity.serviceAccount,
      createdMs: now,
      expiresMs: now + ttlMs,
      revoked: false,
      secretHash: hashSecret(secret),
    };
    this.tokens.set(record.id, record);
    try {
      await this.save();
    } catch (e) {
      this.tokens.delete(record.id); // a token that is not on disk must not work until the next restart only
      throw e;
    }
    return { record, secret };
  }

  list(): JoinTokenRecord[] {
    return [...this.tokens.values()].sort((a, b) => a.createdMs - b.createdMs);
  }

  /** Revokes a token; false when there is no such token. Revoking twice is harmless. */
  async revoke(id: string): Promise<boolean> {
    const record = this.tokens.get(id);
    if (!record) return false;
    if (!record.revoked) {
      this.tokens.set(id, { ...record, revoked: true });
      await this.save();
    }
    return true;
  }

  check(id: string, secret: string, now = Date.now()): TokenCheck {
    const record = this.tokens.get(id);
    // Unknown and wrong secret answer alike to the workload's eye only in weftd's log: the workload is
    // told which, since both mean "get a new token" and neither gives an attacker anything to guess with.
    if (!record) return { ok: false, reason: 'UNKNOWN', message: `join token ${id} is unknown to this weftd (never created here, or pruned after it expired); create a new one with 'weftctl token create'` };
    const given = Buffer.from(hashSecret(secret), 'hex');
    if (!timingSafeEqual(given, Buffer.from(record.secretHash, 'hex'))) {
      return { ok: false, reason: 'WRONG_SECRET', message: `join token ${id}: the secret does not match; copy the whole token as 'weftctl token create' printed it` };
    }
    if (record.revoked) return { ok: false, reason: 'REVOKED', message: `join token ${id} was revoked; create a new one with 'weftctl token create'` };
    if (now >= record.expiresMs) {
      return { ok: false, reason: 'EXPIRED', message: `join token ${id} expired at ${new Date(record.expiresMs).toISOString()}; create a new one with 'weftctl token create'` };
    }
    return { ok: true, record };
  }

  private prune(now: number): void {
    for (const [id, r] of this.tokens) {
      if (now >= r.expiresMs + TOKEN_RETENTION_MS) this.tokens.delete(id);
    }
  }

  /** Writes are serialized, each writing the whole (small) list as it is when its turn comes. */
  private save(): Promise<void> {
    const next = this.writing.then(() => replaceFileDurably(this.dataDir, JOIN_TOKENS_FILE, `${JSON.stringify({ tokens: this.list() }, null, 2)}\n`));
    this.writing = next.catch(() => undefined);
    return next;
  }
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
