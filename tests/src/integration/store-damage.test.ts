// weftd never loses acknowledged data silently: a real weftd on data dirs damaged by hand. Damage in
// the middle of wal.log, vanished store files and a garbled snapshot stop it with a message naming
// the file, and leave the files as they were; `weftd --repair-store` is the explicit way out. Also: a
// stale lock whose pid now belongs to another program, and a port in use.
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminFetch, startWeftd, WEFTD_BIN, type WeftdHandle } from '../support/weftd.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function weftd(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [WEFTD_BIN, ...args], { timeout: 10000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const destinationRule = (name: string) => `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ${name}, namespace: damage}\nspec: {host: ${name}}\n`;

async function apply(adminUrl: string, name: string): Promise<number> {
  const res = await adminFetch(`${adminUrl}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: destinationRule(name) });
  if (res.status !== 200) throw new Error(`apply ${name}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { revision: number }).revision;
}

async function names(adminUrl: string): Promise<string[]> {
  const res = await adminFetch(`${adminUrl}/v1/resources/dr?namespace=damage`);
  return ((await res.json()) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name).sort();
}

/** Offsets where each record of a wal.log starts ([length u32][crc32 u32][payload]). */
function recordOffsets(log: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at + 8 <= log.length; at += 8 + log.readUInt32BE(at)) out.push(at);
  return out;
}

/** Every file under `dir` (the CA's folder included) with its bytes, to show that nothing changed. */
const snapshotOf = (dir: string): Record<string, string> =>
  Object.fromEntries(
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? Object.entries(snapshotOf(join(dir, e.name))).map(([f, bytes]) => [join(e.name, f), bytes])
        : [[e.name, readFileSync(join(dir, e.name)).toString('base64')]],
    ),
  );

describe('store damage: weftd refuses, names the file, changes nothing; --repair-store recovers', () => {
  let dataDir: string;
  let running: WeftdHandle | undefined;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'weftd-damage-'))));
  afterEach(async () => {
    await running?.kill('SIGKILL');
    running = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** weftd with `n` applies (revisions 1..n), stopped cleanly. */
  async function storeWith(n: number): Promise<void> {
    running = await startWeftd({ dataDir });
    for (let i = 1; i <= n; i++) await apply(running.adminUrl, `r${i}`);
    await running.stop();
    running = undefined;
  }

  it('stops on one flipped bit in the middle of wal.log, with file, byte offset and what to do, and leaves it as it was', async () => {
    await storeWith(5);
    const logPath = join(dataDir, 'wal.log');
    const log = readFileSync(logPath);
    const third = recordOffsets(log)[2]!;
    log[third + 8 + 10]! ^= 0x01;
    writeFileSync(logPath, log);
    const before = snapshotOf(dataDir);

    const refused = await weftd(['--data-dir', dataDir, '--port', '0', '--admin-port', '0']);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.contain(`${logPath} is damaged at byte ${third}`).and.to.contain('2 intact records (revisions 4-5) follow it');
    expect(refused.stderr).to.contain(`weftd --repair-store --data-dir ${dataDir}`).and.to.contain('restore the data dir from a backup');
    expect(refused.stderr).to.not.contain('never acknowledged');
    expect(snapshotOf(dataDir), 'weftd changed nothing').to.deep.equal(before);

    const repaired = await weftd(['--repair-store', '--data-dir', dataDir]);
    expect(repaired.code, repaired.stderr).to.equal(0);
    expect(repaired.stdout).to.contain('lost: 2 intact records that could not be kept (revisions 4-5)');
    expect(repaired.stdout).to.match(/moved wal\.log aside to .*wal\.log\.damaged-\d{4}-\d\d-\d\dT/);
    expect(repaired.stdout).to.contain('now holds 2 resources at revision 6').and.to.contain('start weftd as usual');
    const aside = readdirSync(dataDir).find((f) => f.startsWith('wal.log.damaged-'))!;
    expect(readFileSync(join(dataDir, aside)).equals(log), 'the damaged log is kept as it was').to.equal(true);

    running = await startWeftd({ dataDir });
    expect(running.output()).to.contain('store revision 6');
    expect(await names(running.adminUrl)).to.deep.equal(['r1', 'r2']);
    expect(await apply(running.adminUrl, 'r7')).to.equal(7);
  });

  it('--repair-store on an intact store says there is nothing to repair; --help says it does not serve', async () => {
    await storeWith(1);
    const res = await weftd(['--repair-store', '--data-dir', dataDir]);
    expect(res.code).to.equal(0);
    expect(res.stdout).to.contain('nothing to repair');
    const help = await weftd(['--help']);
    expect(help.stdout).to.contain('--repair-store').and.to.contain('it does not start serving');
    expect((await weftd(['--repair-store'])).stderr).to.contain('--repair-store needs --data-dir');
  });

  it('refuses to come up empty when a data dir that held a store has lost its files; a new data dir starts at once', async () => {
    await storeWith(2);
    unlinkSync(join(dataDir, 'wal.log'));
    const refused = await weftd(['--data-dir', dataDir, '--port', '0', '--admin-port', '0']);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.contain('snapshot.json and wal.log are both missing; weftd will not start an empty store in their place');
    expect(refused.stderr).to.contain('durable up to revision 2').and.to.contain(`weftd --repair-store --data-dir ${dataDir}`);
    expect(existsSync(join(dataDir, 'wal.log')), 'no empty log created').to.equal(false);

    const fresh = join(dataDir, 'fresh');
    running = await startWeftd({ dataDir: fresh });
    expect(running.output()).to.contain('store revision 0').and.to.not.contain('store:');
  });

  it('names snapshot.json, its path and what is wrong when it is cut short', async () => {
    await storeWith(1);
    const path = join(dataDir, 'snapshot.json');
    writeFileSync(path, '{"format":1,"revision":4,"resources":[{"kind":"Virtu');
    const refused = await weftd(['--data-dir', dataDir, '--port', '0', '--admin-port', '0']);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.contain(`${path} is damaged: it is not valid JSON`).and.to.contain('cut short or garbled');
    expect(refused.stderr).to.contain('--repair-store');
  });
});

describe('weftd start: a stale lock of a reused pid, and a port in use', () => {
  let dataDir: string;
  let running: WeftdHandle | undefined;
  let sleeper: ChildProcess | undefined;
  let blocker: Server | undefined;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'weftd-start-'))));
  afterEach(async () => {
    await running?.kill('SIGKILL');
    running = undefined;
    sleeper?.kill('SIGKILL');
    sleeper = undefined;
    await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
    blocker = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('takes over a lock whose pid now belongs to an unrelated live process', async function () {
    if (!existsSync('/proc/self/stat')) this.skip(); // the start time that tells them apart is Linux's
    sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((resolve) => sleeper!.once('spawn', resolve));
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    // What a weftd killed long ago left behind: its pid, now the sleeper's, with the weftd's start time.
    writeFileSync(join(dataDir, 'weftd.lock'), `${sleeper.pid}\nstart 12\nboot ${bootId}\n`);
    running = await startWeftd({ dataDir, timeoutMs: 10000 });
    expect(running.output()).to.contain('ready');
  });

  it('exits with one clear line when its port is in use, leaving a fresh data dir as it found it', async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    const fresh = join(dataDir, 'fresh');
    for (const args of [['--port', String(port), '--admin-port', '0'], ['--port', '0', '--admin-port', String(port)]]) {
      const res = await weftd(['--data-dir', fresh, ...args]);
      const flag = args[0] === '--port' && args[1] === String(port) ? '--port' : '--admin-port';
      expect(res.code).to.equal(1);
      expect(res.stderr.trim()).to.equal(
        `weftd: cannot listen on 127.0.0.1:${port} (${flag}): address already in use; another weftd may be running (stop it, or choose another ${flag})`,
      );
      expect(existsSync(fresh), 'the data dir was not created').to.equal(false);
    }
    const res = await weftd(['--data-dir', dataDir, '--port', String(port), '--admin-port', '0']);
    expect(res.code).to.equal(1);
    expect(readdirSync(dataDir), 'an existing empty data dir stays empty').to.deep.equal([]);
  });
});
