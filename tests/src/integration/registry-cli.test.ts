// weftctl against a real weftd: validation errors name file, document and field and store nothing;
// references that do not resolve are stored with a warning, as Istio does;
// apply/get/delete round trip in every output format and with short kind names.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { adminFetch, startWeftd, WEFTCTL_BIN, weftctlTarget, type WeftdHandle } from '../support/weftd.js';

interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** weftctl against the weftd at `server`, with its credential. */
function weftctl(server: string, args: string[], stdin?: string): Promise<CtlResult> {
  return run([...weftctlTarget(server), ...args], stdin);
}

function run(argv: string[], stdin?: string): Promise<CtlResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [WEFTCTL_BIN, ...argv], { timeout: 15000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

const DESTINATION_RULE = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
`;
const VIRTUAL_SERVICE = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 80
    - destination: {host: reviews, subset: v2}
      weight: 20
`;

describe('registry: weftctl against weftd', () => {
  let weftd: WeftdHandle;
  let dir: string;
  let server: string;
  before(async () => {
    weftd = await startWeftd();
    server = weftd.adminUrl;
    dir = mkdtempSync(join(tmpdir(), 'weftctl-test-'));
  });
  after(async () => {
    await weftd.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const revision = async () => {
    const res = await adminFetch(`${server}/v1/apply?dryRun=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resources":[]}' });
    return ((await res.json()) as { revision: number }).revision;
  };

  it('rejects an invalid manifest naming file, document and field, storing nothing', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, `${DESTINATION_RULE}---\n${VIRTUAL_SERVICE.replace('weight: 20', 'weight: 20\n      bogus: true')}`);
    const before = await revision();
    const res = await weftctl(server, ['apply', '-f', file]);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.contain(`${file}#2 (VirtualService reviews) spec.http[0].route[1].bogus`);
    expect(await revision()).to.equal(before);
    const get = await weftctl(server, ['get', 'dr', '-A', '-o', 'json']);
    expect(JSON.parse(get.stdout).items).to.deep.equal([]);
  });

  it('stores a route to a subset no DestinationRule defines, as Istio does, with an IST0101 warning naming file, document and field', async () => {
    const file = join(dir, 'vs-only.yaml');
    writeFileSync(file, VIRTUAL_SERVICE);
    const before = await revision();
    const res = await weftctl(server, ['apply', '-f', file, '-n', 'refcheck']);
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout).to.equal('virtualservice.networking.istio.io/reviews created\n');
    expect(res.stderr).to.contain(`Warning: [IST0101] ${file}#1 (VirtualService refcheck/reviews) spec.http[0].route[0].destination.subset`).and.contain('"reviews+v1"');
    expect(await revision()).to.equal(before + 1);
    expect((await weftctl(server, ['delete', '-f', file, '-n', 'refcheck'])).code).to.equal(0);
  });

  it('applies, gets in every format, and deletes with short and long kind names', async () => {
    const manifests = join(dir, 'bookinfo');
    rmSync(manifests, { recursive: true, force: true });
    mkdirSync(manifests);
    writeFileSync(join(manifests, '1-dr.yaml'), DESTINATION_RULE);
    writeFileSync(join(manifests, '2-vs.yml'), VIRTUAL_SERVICE);
    writeFileSync(join(manifests, 'notes.txt'), 'ignored');

    const applied = await weftctl(server, ['apply', '-f', manifests, '-n', 'bookinfo']);
    expect(applied.stderr).to.equal('');
    expect(applied.stdout.trim().split('\n')).to.deep.equal([
      'destinationrule.networking.istio.io/reviews created',
      'virtualservice.networking.istio.io/reviews created',
    ]);
    const again = await weftctl(server, ['apply', '-f', '-', '-n', 'bookinfo'], DESTINATION_RULE);
    expect(again.stdout.trim()).to.equal('destinationrule.networking.istio.io/reviews unchanged');
    const changed = await weftctl(server, ['apply', '-f', '-', '-n', 'bookinfo'], VIRTUAL_SERVICE.replace('80', '70').replace('weight: 20', 'weight: 30'));
    expect(changed.stdout.trim()).to.equal('virtualservice.networking.istio.io/reviews configured');

    // As kubectl: one namespace (-n, else default) without a NAMESPACE column; -A for all, with one.
    const table = await weftctl(server, ['get', 'vs', '-n', 'bookinfo']);
    expect(table.stdout).to.match(/^NAME\s+HOSTS\s+AGE\nreviews\s+\["reviews"\]\s+\d+s\n$/);
    const drTable = await weftctl(server, ['get', 'destinationrules', '-A']);
    expect(drTable.stdout).to.match(/^NAMESPACE\s+NAME\s+HOST\s+AGE\nbookinfo\s+reviews\s+reviews\s+\d+s\n$/);
    const inDefault = await weftctl(server, ['get', 'destinationrules']);
    expect(inDefault).to.deep.include({ code: 0, stdout: '', stderr: 'No resources found in default namespace.\n' });

    const one = JSON.parse((await weftctl(server, ['get', 'VirtualService', 'reviews', '-n', 'bookinfo', '-o', 'json'])).stdout);
    expect(one.kind).to.equal('VirtualService');
    expect(one.metadata).to.include({ name: 'reviews', namespace: 'bookinfo' });
    expect(one.metadata.resourceVersion).to.match(/^\d+$/);
    expect(Date.parse(one.metadata.creationTimestamp)).to.be.greaterThan(0);
    expect(one.spec.http[0].route[0].weight).to.equal(70);

    const list = JSON.parse((await weftctl(server, ['get', 'dr', '-o', 'json', '-n', 'bookinfo'])).stdout);
    expect(list).to.include({ apiVersion: 'v1', kind: 'List' });
    expect(list.items.map((i: { metadata: { name: string } }) => i.metadata.name)).to.deep.equal(['reviews']);

    const yaml = (await weftctl(server, ['get', 'virtualservices.networking.istio.io', '-n', 'bookinfo', '-o', 'yaml'])).stdout;
    const docs = parseAllDocuments(yaml).map((d) => d.toJS());
    expect(docs).to.have.length(1);
    expect(docs[0].spec.hosts).to.deep.equal(['reviews']);
    // What get -o yaml prints applies again unchanged.
    expect((await weftctl(server, ['apply', '-f', '-'], yaml)).stdout.trim()).to.equal('virtualservice.networking.istio.io/reviews unchanged');

    const missing = await weftctl(server, ['get', 'vs', 'nope', '-n', 'bookinfo']);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.contain('not found');

    // Deleting the DestinationRule a VirtualService routes to is done, with the warning of what it leaves.
    const warned = await weftctl(server, ['delete', 'dr', 'reviews', '-n', 'bookinfo']);
    expect(warned.code, warned.stderr).to.equal(0);
    expect(warned.stdout).to.equal('destinationrule.networking.istio.io/reviews deleted\n');
    expect(warned.stderr).to.contain('Warning: [IST0101] (VirtualService bookinfo/reviews) spec.http[0].route[0].destination.subset');
    expect((await weftctl(server, ['apply', '-f', join(manifests, '1-dr.yaml'), '-n', 'bookinfo'])).stdout).to.equal('destinationrule.networking.istio.io/reviews created\n');

    const deleted = await weftctl(server, ['delete', '-f', manifests, '-n', 'bookinfo']);
    expect(deleted.stdout.trim().split('\n')).to.deep.equal([
      'destinationrule.networking.istio.io/reviews deleted',
      'virtualservice.networking.istio.io/reviews deleted',
    ]);
    expect((await weftctl(server, ['get', 'vs', '-A', '-o', 'json'])).stdout).to.contain('"items": []');
  });

  it('exits 2 with a usage hint on bad usage and explains an unreachable server', async () => {
    const unknown = await weftctl(server, ['get', 'gateways']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.contain('unknown kind "gateways"');
    const badFlag = await weftctl(server, ['apply', '--frobnicate']);
    expect(badFlag.code).to.equal(2);
    expect(badFlag.stderr).to.contain('--frobnicate').and.contain('weftctl apply --help');
    const help = await weftctl(server, ['--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.contain('apply').and.contain('services');
    const unreachable = await run(['--server', 'https://127.0.0.1:9', '--credentials', weftd.credentialsFile, 'services']);
    expect(unreachable.code).to.equal(1);
    expect(unreachable.stderr).to.contain('cannot reach weftd at https://127.0.0.1:9').and.contain('is weftd running?');
  });
});
