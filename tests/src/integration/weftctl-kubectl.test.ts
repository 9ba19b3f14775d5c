// weftctl with kubectl's habits, against a real weftd: get looks in one namespace unless -A, prints
// names (-o name) and more columns (-o wide), takes several kinds and names; delete deletes what exists
// and reports what does not, as kubectl delete -f does; version; services -o json|yaml.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { adminFetch, startWeftd, WEFTCTL_BIN, weftctlTarget, type WeftdHandle } from '../support/weftd.js';

interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** weftctl against the weftd at `server` with its credential, or with `target` (--server, --credentials) as given. */
function weftctl(server: string | string[], args: string[]): Promise<CtlResult> {
  const target = typeof server === 'string' ? weftctlTarget(server) : server;
  return new Promise((resolve) => {
    execFile(process.execPath, [WEFTCTL_BIN, ...target, ...args], { timeout: 15_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../../packages/registry/package.json', import.meta.url), 'utf8')) as { version: string }).version;

const dr = (name: string, namespace?: string, subsets: string[] = []) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name, ...(namespace ? { namespace } : {}) },
  spec: { host: name, ...(subsets.length ? { subsets: subsets.map((s) => ({ name: s, labels: { version: s } })) } : {}) },
});
const vs = (name: string, namespace?: string) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name, ...(namespace ? { namespace } : {}) },
  spec: { hosts: [name], http: [{ route: [{ destination: { host: name, subset: 'v1' } }] }] },
});

describe('weftctl with kubectl habits', function () {
  this.timeout(60_000);
  let weftd: WeftdHandle;
  let dir: string;
  let server: string;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await adminFetch(`${server}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const applyObjects = async (...objects: unknown[]) => {
    const res = await api('POST', '/v1/apply', { resources: objects.map((object) => ({ object })) });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
  };
  const names = async (kind: string, namespace: string) =>
    ((await api('GET', `/v1/resources/${kind}?namespace=${namespace}`)).body['items'] as { metadata: { name: string } }[]).map((i) => i.metadata.name);

  before(async () => {
    weftd = await startWeftd();
    server = weftd.adminUrl;
    dir = mkdtempSync(join(tmpdir(), 'weftctl-kubectl-'));
    await applyObjects(dr('reviews', undefined, ['v1', 'v2']), vs('reviews'), dr('ratings'), dr('reviews', 'other', ['v1']));
  });
  after(async () => {
    await weftd.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gets the default namespace without -n, every namespace with -A (and a NAMESPACE column then)', async () => {
    const plain = await weftctl(server, ['get', 'dr']);
    expect(plain.code, plain.stderr).to.equal(0);
    expect(plain.stdout).to.match(/^NAME\s+HOST\s+AGE\nratings\s+ratings\s+\d+s\nreviews\s+reviews\s+\d+s\n$/);
    for (const flag of ['-A', '--all-namespaces']) {
      const all = await weftctl(server, ['get', 'dr', flag]);
      expect(all.stdout).to.match(/^NAMESPACE\s+NAME\s+HOST\s+AGE\ndefault\s+ratings\s+ratings\s+\d+s\ndefault\s+reviews\s+reviews\s+\d+s\nother\s+reviews\s+reviews\s+\d+s\n$/);
    }
    const other = await weftctl(server, ['-n', 'other', 'get', 'dr']);
    expect(other.stdout).to.match(/^NAME\s+HOST\s+AGE\nreviews\s+reviews\s+\d+s\n$/);
    const none = await weftctl(server, ['get', 'vs', '-n', 'nothing-here']);
    expect(none).to.deep.equal({ code: 0, stdout: '', stderr: 'No resources found in nothing-here namespace.\n' });
    const both = await weftctl(server, ['get', 'dr', '-A', '-n', 'other']);
    expect(both.code).to.equal(2);
    expect(both.stderr).to.contain('-A').and.contain('-n');
  });

  it('prints -o name and -o wide as kubectl does', async () => {
    const named = await weftctl(server, ['get', 'vs,dr', '-o', 'name']);
    expect(named.stdout).to.equal(
      'virtualservice.networking.istio.io/reviews\ndestinationrule.networking.istio.io/ratings\ndestinationrule.networking.istio.io/reviews\n',
    );
    const wide = await weftctl(server, ['get', 'dr', '-o', 'wide']);
    expect(wide.stdout).to.match(/^NAME\s+HOST\s+AGE\s+SUBSETS\s+RESOURCEVERSION\nratings\s+ratings\s+\d+s\s+<none>\s+\d+\nreviews\s+reviews\s+\d+s\s+v1,v2\s+\d+\n$/);
    const vsWide = await weftctl(server, ['get', 'vs', '-o', 'wide']);
    expect(vsWide.stdout).to.match(/^NAME\s+HOSTS\s+AGE\s+GATEWAYS\s+DESTINATIONS\s+RESOURCEVERSION\nreviews\s+\["reviews"\]\s+\d+s\s+<none>\s+reviews\/v1\s+\d+\n$/);
  });

  it('gets several kinds in one call, one block each with kind-qualified names, and several names', async () => {
    const both = await weftctl(server, ['get', 'vs,dr']);
    expect(both.code, both.stderr).to.equal(0);
    const [vsBlock, drBlock, ...rest] = both.stdout.split('\n\n');
    expect(rest).to.deep.equal([]);
    expect(vsBlock).to.match(/^NAME\s+HOSTS\s+AGE\nvirtualservice\.networking\.istio\.io\/reviews\s+\["reviews"\]\s+\d+s$/);
    expect(drBlock).to.match(/^NAME\s+HOST\s+AGE\ndestinationrule\.networking\.istio\.io\/ratings\s+ratings\s+\d+s\ndestinationrule\.networking\.istio\.io\/reviews\s+reviews\s+\d+s\n$/);

    const several = await weftctl(server, ['get', 'dr', 'reviews', 'ratings', '-o', 'name']);
    expect(several).to.deep.equal({ code: 0, stdout: 'destinationrule.networking.istio.io/reviews\ndestinationrule.networking.istio.io/ratings\n', stderr: '' });
    const slashes = await weftctl(server, ['get', 'vs/reviews', 'dr/ratings', '-o', 'json']);
    expect((JSON.parse(slashes.stdout) as { items: { kind: string }[] }).items.map((i) => i.kind)).to.deep.equal(['VirtualService', 'DestinationRule']);

    // A name that is not there: the others are shown, the missing one named on stderr, exit 1.
    const partly = await weftctl(server, ['get', 'dr', 'reviews', 'nope']);
    expect(partly.code).to.equal(1);
    expect(partly.stdout).to.match(/^NAME\s+HOST\s+AGE\nreviews\s+reviews\s+\d+s\n$/);
    expect(partly.stderr).to.equal('Error from server (NotFound): destinationrules.networking.istio.io "nope" not found in namespace default\n');
  });

  it('reports its own version and weftd\'s, and --version answers even with no weftd', async () => {
    expect(await api('GET', '/v1/version')).to.deep.equal({ status: 200, body: { version: PACKAGE_VERSION } });
    const both = `Client Version: ${PACKAGE_VERSION}\nServer Version: ${PACKAGE_VERSION}\n`;
    expect(await weftctl(server, ['version'])).to.deep.equal({ code: 0, stdout: both, stderr: '' });
    expect(await weftctl(server, ['--version'])).to.deep.equal({ code: 0, stdout: both, stderr: '' });
    // A credential at hand, and nothing listening where it points.
    const nowhere = ['--server', 'https://127.0.0.1:9', '--credentials', weftd.credentialsFile];
    const clientOnly = await weftctl(nowhere, ['version', '--client']);
    expect(clientOnly).to.deep.equal({ code: 0, stdout: `Client Version: ${PACKAGE_VERSION}\n`, stderr: '' });
    const down = await weftctl(nowhere, ['--version']);
    expect(down.code).to.equal(0);
    expect(down.stdout).to.equal(`Client Version: ${PACKAGE_VERSION}\n`);
    expect(down.stderr).to.contain('cannot reach weftd');
    expect((await weftctl(nowhere, ['version'])).code).to.equal(1);
  });

  it('prints services as JSON and YAML (what GET /v1/services answers)', async () => {
    const answer = (await api('GET', '/v1/services')).body;
    const json = await weftctl(server, ['services', '-o', 'json']);
    expect(json.code, json.stderr).to.equal(0);
    expect(JSON.parse(json.stdout)).to.deep.equal(answer);
    expect(parse((await weftctl(server, ['services', '-o', 'yaml'])).stdout)).to.deep.equal(answer);
    expect((await weftctl(server, ['services', '-o', 'bogus'])).code).to.equal(2);
  });

  it('delete --ignore-not-found exits 0 when nothing matched; several names are deleted in one write', async () => {
    const ignored = await weftctl(server, ['delete', 'vs', 'nope', '--ignore-not-found']);
    expect(ignored).to.deep.equal({ code: 0, stdout: '', stderr: '' });
    await applyObjects(dr('a', 'names'), dr('b', 'names'));
    const both = await weftctl(server, ['delete', 'dr', 'a', 'b', 'nope', '-n', 'names']);
    expect(both.code).to.equal(1);
    expect(both.stdout).to.equal('destinationrule.networking.istio.io/a deleted\ndestinationrule.networking.istio.io/b deleted\n');
    expect(both.stderr).to.equal('Error from server (NotFound): destinationrules.networking.istio.io "nope" not found in namespace names\n');
    expect(await names('dr', 'names')).to.deep.equal([]);
  });

  it('delete -f deletes what exists and reports each missing one (exit 1, or 0 with --ignore-not-found)', async () => {
    await applyObjects(dr('one', 'files'), dr('two', 'files'));
    const file = join(dir, 'three.yaml');
    writeFileSync(file, [dr('one'), dr('missing'), dr('two')].map((d) => JSON.stringify(d)).join('\n---\n'));
    const res = await weftctl(server, ['delete', '-f', file, '-n', 'files']);
    expect(res.code).to.equal(1);
    expect(res.stdout).to.equal('destinationrule.networking.istio.io/one deleted\ndestinationrule.networking.istio.io/two deleted\n');
    expect(res.stderr).to.equal('Error from server (NotFound): destinationrules.networking.istio.io "missing" not found in namespace files\n');
    expect(await names('dr', 'files')).to.deep.equal([]);
    const again = await weftctl(server, ['delete', '-f', file, '-n', 'files', '--ignore-not-found']);
    expect(again).to.deep.equal({ code: 0, stdout: '', stderr: '' });
  });

  it('keeps POST /v1/delete all-or-nothing by default; ?missing=ignore deletes what exists and lists the rest', async () => {
    await applyObjects(dr('kept', 'api'));
    const body = { resources: [{ object: dr('kept', 'api') }, { object: dr('absent', 'api') }] };
    const refused = await api('POST', '/v1/delete', body);
    expect(refused.status).to.equal(404);
    expect(refused.body['error']).to.contain('absent').and.contain('nothing was deleted');
    expect(await names('dr', 'api')).to.deep.equal(['kept']);
    const dry = await api('POST', '/v1/delete?missing=ignore&dryRun=true', body);
    expect(dry.body).to.deep.include({ deleted: [{ kind: 'DestinationRule', namespace: 'api', name: 'kept' }], missing: [{ kind: 'DestinationRule', namespace: 'api', name: 'absent' }] });
    expect(await names('dr', 'api')).to.deep.equal(['kept']);
    const done = await api('POST', '/v1/delete?missing=ignore', body);
    expect(done.status).to.equal(200);
    expect(done.body).to.deep.include({ deleted: [{ kind: 'DestinationRule', namespace: 'api', name: 'kept' }], missing: [{ kind: 'DestinationRule', namespace: 'api', name: 'absent' }] });
    expect(await names('dr', 'api')).to.deep.equal([]);
    const bad = await api('POST', '/v1/delete?missing=maybe', body);
    expect(bad.status).to.equal(400);
    expect(bad.body['error']).to.contain('missing must be fail or ignore');
  });
});
