// /healthz and /readyz tell the truth about the store: a real weftd whose data dir is a small tmpfs
// (mounted by the test; needs root, skipped with the reason elsewhere) that fills up and frees again.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, truncateSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminFetch, startWeftd, type WeftdHandle } from '../support/weftd.js';

const destinationRule = (name: string) => `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ${name}, namespace: health}\nspec: {host: ${name}}\n`;

/** Applies `name`, or with `copies` that many resources `name-i` in one batch (one large log record). */
const apply = (adminUrl: string, name: string, copies = 0) =>
  adminFetch(`${adminUrl}/v1/apply`, {
    method: 'POST',
    headers: { 'content-type': 'application/yaml' },
    body: copies === 0 ? destinationRule(name) : Array.from({ length: copies }, (_, i) => destinationRule(`${name}-${i}`)).join('---\n'),
  });

interface Readiness {
  ready: boolean;
  store: { writable: boolean; revision: number; error?: string };
  sessions: number;
}

async function health(adminUrl: string): Promise<{ status: number; text: string; ready: Readiness; readyStatus: number }> {
  const h = await adminFetch(`${adminUrl}/healthz`);
  const r = await adminFetch(`${adminUrl}/readyz`);
  return { status: h.status, text: await h.text(), readyStatus: r.status, ready: (await r.json()) as Readiness };
}

function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(4096);
  try {
    for (let i = 0; i < 1_000_000; i++) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
}

describe('weftd health: /healthz and /readyz report a store that refuses writes, and its recovery', function () {
  let mountPoint: string;
  let mounted = false;
  let weftd: WeftdHandle | undefined;
  before(function () {
    mountPoint = mkdtempSync(join(tmpdir(), 'weftd-full-disk-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mountPoint], { stdio: 'pipe' });
      mounted = true;
    } catch (e) {
      process.stderr.write(`    skipped: cannot mount a tmpfs to fill (needs root and mount): ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}\n`);
      this.skip();
    }
  });
  after(async () => {
    await weftd?.kill('SIGKILL');
    if (mounted) execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('answers 503 with the reason while the disk is full, and ok again once it is not, without a restart', async () => {
    const dataDir = join(mountPoint, 'data');
    mkdirSync(dataDir);
    weftd = await startWeftd({ dataDir });
    expect((await apply(weftd.adminUrl, 'a')).status).to.equal(200);
    let h = await health(weftd.adminUrl);
    expect([h.status, h.text]).to.deep.equal([200, 'ok']);
    expect([h.readyStatus, h.ready]).to.deep.equal([200, { ready: true, store: { writable: true, revision: 1 }, sessions: 0 }]);

    const filler = join(mountPoint, 'filler');
    fillDisk(filler);
    truncateSync(filler, statSync(filler).size - 8192);
    const failed = await apply(weftd.adminUrl, 'b', 100); // about 30 KB: more than the room left
    expect(failed.status).to.equal(503); // the disk's fault, not weftd's: no 500, no stack trace
    expect(await failed.text()).to.contain('no space left on device');
    expect(weftd.output()).to.not.contain('admin API error');
    h = await health(weftd.adminUrl);
    expect(h.status).to.equal(503);
    expect(h.text).to.contain('the store refuses writes: writing revision 2 to wal.log failed').and.to.contain('no space left on device');
    expect(h.readyStatus).to.equal(503);
    expect(h.ready).to.deep.include({ ready: false, sessions: 0 });
    expect(h.ready.store).to.include({ writable: false, revision: 1 });
    expect(h.ready.store.error).to.contain('no space left on device');

    unlinkSync(filler);
    const deadline = Date.now() + 10_000; // weftd tries every 1 s
    while ((await health(weftd.adminUrl)).status !== 200) {
      if (Date.now() > deadline) throw new Error(`still unhealthy after the disk was freed: ${(await health(weftd.adminUrl)).text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(weftd.output()).to.contain('store: takes writes again');
    expect((await apply(weftd.adminUrl, 'c')).status).to.equal(200);
    await weftd.stop();
    weftd = await startWeftd({ dataDir });
    expect(weftd.output()).to.contain('store revision 2').and.to.not.contain('cut off');
    const res = await adminFetch(`${weftd.adminUrl}/v1/resources/dr?namespace=health`);
    expect(((await res.json()) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name)).to.deep.equal(['a', 'c']);
  });
});
