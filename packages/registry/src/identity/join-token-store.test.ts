import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JOIN_TOKENS_FILE, JoinTokenStore, TOKEN_RETENTION_MS } from './join-token-store.js';

describe('join token store', () => {
  let dir: string;
  const identity = { namespace: 'shop', serviceAccount: 'cart' };
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'weft-tokens-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('checks a token it created, and keeps it (by its hash only) across a reopen', async () => {
    const store = await JoinTokenStore.open(dir);
    const { record, secret } = await store.create(identity, 3600_000, 1000);
    expect(store.check(record.id, secret, 2000)).to.deep.include({ ok: true });
    const onDisk = readFileSync(join(dir, JOIN_TOKENS_FILE), 'utf8');
    expect(onDisk).to.contain(record.id).and.not.contain(secret);
    const reopened = await JoinTokenStore.open(dir);
    const checked = reopened.check(record.id, secret, 2000);
    expect(checked.ok && checked.record).to.deep.include(identity);
  });

  it('refuses an unknown id, a wrong secret, a revoked and an expired token, each with its reason', async () => {
    const store = await JoinTokenStore.open(dir);
    const a = await store.create(identity, 1000, 0);
    const b = await store.create(identity, 3600_000, 0);
    const reason = (c: ReturnType<JoinTokenStore['check']>) => (c.ok ? 'ok' : c.reason);
    expect(reason(store.check('0123456789abcdef', a.secret, 10))).to.equal('UNKNOWN');
    expect(reason(store.check(a.record.id, b.secret, 10))).to.equal('WRONG_SECRET');
    expect(reason(store.check(a.record.id, a.secret, 1000))).to.equal('EXPIRED');
    expect(await store.revoke(b.record.id)).to.equal(true);
    expect(reason(store.check(b.record.id, b.secret, 10))).to.equal('REVOKED');
    expect(await store.revoke('0123456789abcdef')).to.equal(false);
    expect((await JoinTokenStore.open(dir)).list().find((r) => r.id === b.record.id)?.revoked).to.equal(true);
  });

  it('prunes tokens a day after they stopped working, when the next token is made', async () => {
    const store = await JoinTokenStore.open(dir);
    const old = await store.create(identity, 1000, 0);
    await store.create(identity, 1000, 1000 + TOKEN_RETENTION_MS);
    expect(store.list().map((r) => r.id)).not.to.include(old.record.id);
  });

  it('refuses a damaged file, naming it and what to do', async () => {
    writeFileSync(join(dir, JOIN_TOKENS_FILE), '{"tokens": 3}');
    let err: Error | undefined;
    await JoinTokenStore.open(dir).catch((e: Error) => (err = e));
    expect(err?.message).to.contain(join(dir, JOIN_TOKENS_FILE)).and.contain('restore it from a backup');
  });
});
