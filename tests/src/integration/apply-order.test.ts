// Istio's files apply in any order (issue 9): against a real weftd, a VirtualService that routes to a
// subset no DestinationRule defines yet is stored with an IST0101 warning (admin API JSON, weftctl's
// `Warning:` lines, exit 0); a request routed there gets Envoy's answer (503, flag NC, empty body);
// once the DestinationRule arrives the same request works; deleting it again is allowed, with a
// warning. Then every file of examples/bookinfo/networking/ applied one by one on an empty store,
// in a seeded shuffled order and in reverse: which apply, which are refused and for which field.
import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseManifest } from '@weft/api';
import { createMesh, isWeftErrorCode, type Mesh, type WeftError } from '@weft/sdk';
import { adminFetch, startWeftd, type WeftdHandle } from '../support/weftd.js';
import { runWeftctl } from '../support/weftctl.js';
import { NS, startWorkload, waitFor, type Workload } from './sdk-fixtures.js';

const NETWORKING_DIR = fileURLToPath(new URL('../../../examples/bookinfo/networking/', import.meta.url));
const REVIEWS = `reviews.${NS}.svc.cluster.local`;

const ROUTE_TO_V2 = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: ${NS} }
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: { host: reviews, subset: v2 }
`;
const RULE = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: ${NS} }
spec:
  host: reviews
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
`;
const SUBSET_PATH = 'spec.http[0].route[0].destination.subset';
const IST0101_TEXT = 'Referenced host+subset in destinationrule not found: "reviews+v2"';

interface ApiWarning { source?: string; kind: string; namespace: string; name: string; path: string; message: string; code: string }

describe('apply in any order: a VirtualService before its DestinationRule', function () {
  this.timeout(60_000);
  let weftd: WeftdHandle;
  let dir: string;
  let v2: Workload;
  let client: Mesh;

  before(async () => {
    weftd = await startWeftd();
    dir = mkdtempSync(join(tmpdir(), 'weft-apply-order-'));
    writeFileSync(join(dir, 'vs.yaml'), ROUTE_TO_V2);
    writeFileSync(join(dir, 'dr.yaml'), RULE);
    v2 = await startWorkload(weftd.grpcAddress, 'reviews', 'reviews-v2', { version: 'v2' });
    client = await createMesh({ service: 'productpage', namespace: NS, controlPlane: weftd.grpcAddress, caFile: weftd.caFile, subscribe: ['reviews'], fetchErrors: 'status' });
    await waitFor('the reviews endpoint in the client view', () => client.status().hosts[REVIEWS] === 1);
  });

  after(async () => {
    await client?.close();
    await v2?.mesh.close();
    await weftd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const configIn = (revision: number) => waitFor(`config ${revision} in the client`, () => Number(client.status().configVersion) >= revision);
  const revisionOf = async () => {
    const res = await adminFetch(`${weftd.adminUrl}/v1/apply?dryRun=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resources":[]}' });
    return ((await res.json()) as { revision: number }).revision;
  };
  const expectNoCluster = async () => {
    const e = (await client.request('http://reviews:9080/reviews/0').catch((x: unknown) => x)) as WeftError;
    expect(isWeftErrorCode(e, 'CLUSTER_NOT_FOUND'), String(e)).to.equal(true);
    expect(e).to.include({ status: 503, flag: 'NC' });
    expect(e.message).to.contain(`subset v2`).and.contain('no DestinationRule');
    const res = await client.fetch('http://reviews:9080/reviews/0');
    expect([res.status, res.headers.get('x-weft-response-flags'), await res.text()]).to.deep.equal([503, 'NC', '']);
  };

  it('weftctl apply --dry-run warns and stores nothing; apply stores it, prints Warning: on stderr and exits 0', async () => {
    const before = await revisionOf();
    const dry = await runWeftctl(weftd.adminUrl, ['apply', '-f', join(dir, 'vs.yaml'), '--dry-run']);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.equal('virtualservice.networking.istio.io/reviews created (dry run)\n');
    const warning = `Warning: [IST0101] ${join(dir, 'vs.yaml')}#1 (VirtualService ${NS}/reviews) ${SUBSET_PATH}: ${IST0101_TEXT}; `;
    expect(dry.stderr.startsWith(warning), dry.stderr).to.equal(true);
    expect(dry.stderr.trimEnd().split('\n')).to.have.length(1);
    expect(await revisionOf()).to.equal(before);

    const applied = await runWeftctl(weftd.adminUrl, ['apply', '-f', join(dir, 'vs.yaml')]);
    expect(applied.code, applied.stderr).to.equal(0);
    expect(applied.stdout).to.equal('virtualservice.networking.istio.io/reviews created\n');
    expect(applied.stderr).to.equal(dry.stderr);
    const stored = await adminFetch(`${weftd.adminUrl}/v1/resources/virtualservices/${NS}/reviews`);
    expect(stored.status).to.equal(200);
  });

  it('the admin API answers /v1/apply with the warnings as JSON, and the SDK answers 503 NC for the missing subset', async () => {
    const res = await adminFetch(`${weftd.adminUrl}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: ROUTE_TO_V2 });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { revision: number; results: { action: string }[]; warnings: ApiWarning[] };
    expect(body.results.map((r) => r.action)).to.deep.equal(['unchanged']);
    expect(body.warnings).to.have.length(1);
    expect(body.warnings[0]).to.deep.include({ kind: 'VirtualService', namespace: NS, name: 'reviews', path: SUBSET_PATH, code: 'IST0101' });
    expect(body.warnings[0]!.message.startsWith(IST0101_TEXT)).to.equal(true);
    await configIn(body.revision);
    await expectNoCluster();
  });

  it('once the DestinationRule arrives (no warning) the same request reaches reviews v2', async () => {
    const applied = await runWeftctl(weftd.adminUrl, ['apply', '-f', join(dir, 'dr.yaml')]);
    expect(applied).to.deep.equal({ code: 0, stdout: 'destinationrule.networking.istio.io/reviews created\n', stderr: '' });
    await configIn(await revisionOf());
    const res = await client.fetch('http://reviews:9080/reviews/0');
    expect(res.status).to.equal(200);
    expect(((await res.json()) as { name: string }).name).to.equal('reviews-v2');
  });

  it('deleting the DestinationRule still routed to is done, with a warning naming the VirtualService; requests get NC again', async () => {
    const dry = await runWeftctl(weftd.adminUrl, ['delete', 'dr', 'reviews', '-n', NS, '--dry-run']);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.equal('destinationrule.networking.istio.io/reviews deleted (dry run)\n');
    const warning = `Warning: [IST0101] (VirtualService ${NS}/reviews) ${SUBSET_PATH}: ${IST0101_TEXT}; `;
    expect(dry.stderr.startsWith(warning), dry.stderr).to.equal(true);
    const deleted = await runWeftctl(weftd.adminUrl, ['delete', 'dr', 'reviews', '-n', NS]);
    expect(deleted.code, deleted.stderr).to.equal(0);
    expect(deleted.stdout).to.equal('destinationrule.networking.istio.io/reviews deleted\n');
    expect(deleted.stderr).to.equal(dry.stderr);
    expect((await adminFetch(`${weftd.adminUrl}/v1/resources/destinationrules/${NS}/reviews`)).status).to.equal(404);
    await configIn(await revisionOf());
    await expectNoCluster();
  });
});

/**
 * What each file of examples/bookinfo/networking/ does on an empty store, whatever was applied before
 * it: 'applies', or refused naming these field paths (each "not supported by Weft yet"). A file that is
 * not listed fails the test: say what it does here and in docs/configuration.md ("Applying Istio's
 * files in any order").
 */
const EXPECTED: Readonly<Record<string, 'applies' | { refused: string[] }>> = {
  'bookinfo-policy-allow-nothing.yaml': 'applies',
  'bookinfo-resilience.yaml': 'applies',
  'destination-rule-all.yaml': 'applies',
  'destination-rule-reviews-circuit-breaker.yaml': 'applies',
  'details-viewer.yaml': 'applies',
  'peer-authentication-permissive.yaml': 'applies',
  'peer-authentication-productpage-permissive.yaml': 'applies',
  'peer-authentication-strict.yaml': 'applies',
  'productpage-viewer.yaml': 'applies',
  'ratings-viewer.yaml': 'applies',
  'reviews-viewer.yaml': 'applies',
  'virtual-service-all-v1.yaml': 'applies',
  'virtual-service-ratings-delay-2s.yaml': 'applies',
  'virtual-service-ratings-test-abort.yaml': 'applies',
  'virtual-service-ratings-test-delay.yaml': 'applies',
  'virtual-service-reviews-50-v3.yaml': 'applies',
  'virtual-service-reviews-80-20.yaml': 'applies',
  'virtual-service-reviews-90-10.yaml': 'applies',
  'virtual-service-reviews-test-v2.yaml': 'applies',
  'virtual-service-reviews-v1-mirror-v2.yaml': 'applies',
  'virtual-service-reviews-v2-timeout.yaml': 'applies',
  'virtual-service-reviews-v2-v3.yaml': 'applies',
  'virtual-service-reviews-v2.yaml': 'applies',
  'virtual-service-reviews-v3.yaml': 'applies',
};

/**
 * The subsets a file's DestinationRules define (`host+subset`, by rule name) and its VirtualServices'
 * routes name (by VirtualService name). Several files define subsets (destination-rule-all.yaml for
 * every host, others for the hosts whose rule they replace), so the test follows what the store holds.
 */
function subsetsOf(file: string): { rules: Map<string, string[]>; routes: Map<string, string[]> } {
  const rules = new Map<string, string[]>();
  const routes = new Map<string, string[]>();
  for (const { resource } of parseManifest(readFileSync(join(NETWORKING_DIR, file), 'utf8'), file, 'default')) {
    const spec = resource.spec as { host?: string; subsets?: { name: string }[]; http?: { route?: { destination: { host: string; subset?: string } }[] }[] };
    if (resource.kind === 'DestinationRule') rules.set(resource.metadata.name, (spec.subsets ?? []).map((s) => `${spec.host}+${s.name}`));
    if (resource.kind === 'VirtualService') {
      const refs = (spec.http ?? []).flatMap((r) => r.route ?? []).flatMap(({ destination: d }) => (d.subset ? [`${d.host}+${d.subset}`] : []));
      routes.set(resource.metadata.name, refs);
    }
  }
  return { rules, routes };
}

/** mulberry32: a small seeded generator, so a failing order can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seeded(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe("apply in any order: Istio's Bookinfo networking files, one by one on an empty store", function () {
  this.timeout(60_000);
  const files = readdirSync(NETWORKING_DIR).filter((f) => /\.ya?ml$/.test(f)).sort();

  it('knows what every file of examples/bookinfo/networking/ does', () => {
    expect(files.length).to.be.greaterThan(0);
    const unlisted = files.filter((f) => !Object.hasOwn(EXPECTED, f));
    expect(unlisted, `say what these do in EXPECTED here and in docs/configuration.md`).to.deep.equal([]);
  });

  const SEED = 9;
  for (const [label, order] of [
    [`shuffled (seed ${SEED})`, () => shuffled(files, SEED)],
    ['in reverse', () => [...files].reverse()],
    ['in name order', () => files],
  ] as const) {
    it(`${label}: each listed file applies (warning only while a subset it routes to is undefined) or is refused for its unsupported fields`, async () => {
      const weftd = await startWeftd();
      try {
        // What the store holds: rules' subsets by rule name, routes' subset references by VirtualService name.
        const storedRules = new Map<string, string[]>();
        const storedRoutes = new Map<string, string[]>();
        const unresolved = () => {
          const defined = new Set([...storedRules.values()].flat());
          return new Set([...storedRoutes].flatMap(([name, refs]) => refs.filter((r) => !defined.has(r)).map((r) => `${name} ${r}`)));
        };
        const seen: string[] = [];
        for (const file of order()) {
          const expected = EXPECTED[file];
          if (expected === undefined) continue; // reported by the test above
          const res = await adminFetch(`${weftd.adminUrl}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: readFileSync(join(NETWORKING_DIR, file)) });
          const body = (await res.json()) as { warnings?: ApiWarning[]; issues?: { path: string; message: string }[]; error?: string };
          const context = `${file} after [${seen.join(', ')}]: ${JSON.stringify(body)}`;
          seen.push(file);
          if (expected === 'applies') {
            expect(res.status, context).to.equal(200);
            const before = unresolved();
            const { rules, routes } = subsetsOf(file);
            for (const [name, subsets] of rules) storedRules.set(name, subsets);
            for (const [name, refs] of routes) storedRoutes.set(name, refs);
            // A write warns for its own routes to subsets no stored rule defines, and for routes it leaves unresolved.
            const warns = [...unresolved()].some((ref) => routes.has(ref.split(' ')[0]!) || !before.has(ref));
            expect(body.warnings!.length > 0, context).to.equal(warns);
            for (const w of body.warnings!) {
              expect(w.code, context).to.equal('IST0101');
              expect(w.message, context).to.match(/^Referenced host\+subset in destinationrule not found: /);
            }
          } else {
            expect(res.status, context).to.equal(400);
            expect(body.issues!.map((i) => i.path), context).to.deep.equal(expected.refused);
            for (const i of body.issues!) expect(i.message, context).to.match(/not supported by Weft yet|unsupported kind/);
          }
        }
      } finally {
        await weftd.stop();
      }
    });
  }
});
