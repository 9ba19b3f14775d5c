// Durability of weftd's store: applies interleaved with kill -9 at a random moment, restarts on the
// same data dir, and a torn record written by hand at the end of the log.
import { expect } from 'chai';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminFetch, startWeftd, type WeftdHandle } from '../support/weftd.js';

interface Resource {
  metadata: { name: string; resourceVersion: string };
}

const destinationRule = (name: string, n: number) =>
  `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ${name}, namespace: durable}\nspec:\n  host: ${name}\n  subsets:\n  - name: s${n}\n    labels: {round: "${n}"}\n`;

async function applyYaml(adminUrl: string, yaml: string): Promise<{ revision: number; results: { name: string; resourceVersion: string }[] }> {
  const res = await adminFetch(`${adminUrl}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: yaml });
  if (res.status !== 200) throw new Error(`apply failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { revision: number; results: { name: string; resourceVersion: string }[] };
}

async function listAll(adminUrl: string): Promise<Map<string, string>> {
  const res = await adminFetch(`${adminUrl}/v1/resources/dr?namespace=durable`);
  const body = (await res.json()) as { items: Resource[] };
  return new Map(body.items.map((i) => [i.metadata.name, i.metadata.resourceVersion]));
}

function readyRevision(weftd: WeftdHandle): number {
  const m = /store revision (\d+)/.exec(weftd.output());
  if (!m) throw new Error(`no ready line in:\n${weftd.output()}`);
  return Number(m[1]);
}

describe('registry: store durability across kill -9', () => {
  let dataDir: string;
  let weftd: WeftdHandle | undefined;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'weftd-durable-'))));
  afterEach(async () => {
    await weftd?.kill('SIGKILL');
    weftd = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write with its resourceVersion over 5 crash/restart rounds', async () => {
    const acknowledged = new Map<string, string>(); // name → resourceVersion acknowledged last
    let lastRevision = 0;
    for (let round = 0; round < 5; round++) {
      weftd = await startWeftd({ dataDir });
      const revisionAtStart = readyRevision(weftd);
      expect(revisionAtStart, `round ${round}: revision is monotonic`).to.be.at.least(lastRevision);
      const stored = await listAll(weftd.adminUrl);
      for (const [name, version] of acknowledged) expect(stored.get(name), `round ${round}: ${name}`).to.equal(version);

      // Several writers apply concurrently; weftd is killed at a random moment while they run.
      const admin = weftd.adminUrl;
      let stop = false;
      const writer = async (w: number) => {
        for (let i = 0; !stop; i++) {
          const name = `r${round}-w${w}-${i}`; // unique: a later unacknowledged write cannot overwrite it
          try {
            const res = await applyYaml(admin, destinationRule(name, i));
            acknowledged.set(name, res.results[0]!.resourceVersion);
            lastRevision = Math.max(lastRevision, res.revision);
          } catch {
            return; // weftd is gone: this write was not acknowledged
          }
        }
      };
      const writers = [0, 1, 2, 3].map(writer);
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
      await weftd.kill('SIGKILL');
      stop = true;
      await Promise.all(writers);
    }
    weftd = await startWeftd({ dataDir });
    expect(readyRevision(weftd)).to.be.at.least(lastRevision);
    const stored = await listAll(weftd.adminUrl);
    expect(acknowledged.size).to.be.greaterThan(0);
    for (const [name, version] of acknowledged) expect(stored.get(name), name).to.equal(version);
  });

  it('ignores a torn record at the end of the log and continues the revision', async () => {
    weftd = await startWeftd({ dataDir });
    const first = await applyYaml(weftd.adminUrl, destinationRule('kept', 1));
    await weftd.kill('SIGKILL');
    // A frame header promising 500 bytes followed by only a few: a write cut short by a crash.
    const header = Buffer.alloc(8);
    header.writeUInt32BE(500, 0);
    header.writeUInt32BE(0xdeadbeef, 4);
    appendFileSync(join(dataDir, 'wal.log'), Buffer.concat([header, Buffer.from('{"rev":2,"put":[')]));
    weftd = await startWeftd({ dataDir });
    expect(readyRevision(weftd)).to.equal(first.revision);
    expect(weftd.output()).to.contain('never acknowledged');
    expect(await listAll(weftd.adminUrl)).to.deep.equal(new Map([['kept', String(first.revision)]]));
    const next = await applyYaml(weftd.adminUrl, destinationRule('after', 2));
    expect(next.revision).to.equal(first.revision + 1);
    await weftd.stop();
    weftd = await startWeftd({ dataDir });
    expect(readyRevision(weftd)).to.equal(first.revision + 1);
  });

  it('refuses a second weftd on a data dir in use', async () => {
    weftd = await startWeftd({ dataDir });
    let error: unknown;
    await startWeftd({ dataDir, timeoutMs: 5000 }).catch((e: unknown) => (error = e));
    expect(String(error)).to.contain('is in use by another weftd');
  });
});
