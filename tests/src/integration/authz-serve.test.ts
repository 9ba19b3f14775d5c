// AuthorizationPolicy end to end: written to a real weftd (admin API and weftctl), pushed to
// workloads on real sessions, enforced by mesh.serve on real sockets.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { adminFetch, startWeftd, WEFTCTL_BIN, weftctlTarget, type WeftdHandle } from '../support/weftd.js';
import { applyYaml, NS, startWorkload, waitFor, type Workload } from './sdk-fixtures.js';

const run = promisify(execFile);

function policy(name: string, namespace: string, spec: string): string {
  return `apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:\n${spec}`;
}

async function status(w: Workload, path: string): Promise<number> {
  const { port } = w.server.address() as AddressInfo;
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  return res.status;
}

describe('AuthorizationPolicy through weftd to mesh.serve', function () {
  this.timeout(30_000);
  let weftd: WeftdHandle;
  let reviews: Workload;
  let ratings: Workload;
  let otherRoot: Workload;

  before(async () => {
    weftd = await startWeftd();
    [reviews, ratings, otherRoot] = await Promise.all([
      startWorkload(weftd.grpcAddress, 'reviews', 'reviews-v1', { version: 'v1' }),
      startWorkload(weftd.grpcAddress, 'ratings', 'ratings-v1', { version: 'v1' }),
      startWorkload(weftd.grpcAddress, 'details', 'details-v1', {}, 0, { rootNamespace: 'mesh-root' }),
    ]);
  });

  after(async () => {
    await Promise.all([reviews, ratings, otherRoot].map((w) => w?.mesh.close()));
    await weftd?.stop();
  });

  /** Applies YAML and waits until every workload has put that revision in force. */
  async function apply(yaml: string): Promise<void> {
    const revision = await applyYaml(weftd.adminUrl, yaml);
    await waitAll(revision);
  }
  async function remove(namespace: string, name: string): Promise<void> {
    const res = await adminFetch(`${weftd.adminUrl}/v1/resources/ap/${namespace}/${name}`, { method: 'DELETE' });
    expect(res.status).to.equal(200);
    await waitAll(((await res.json()) as { revision: number }).revision);
  }
  function waitAll(revision: number): Promise<void> {
    return waitFor(`config ${revision} in every workload`, () => [reviews, ratings, otherRoot].every((w) => Number(w.mesh.status().configVersion) >= revision));
  }

  it('a DENY in the root namespace applies mesh-wide, before the ALLOW of a namespace; a selector narrows a policy to its workloads', async () => {
    await apply(policy('deny-admin', 'istio-system', '  action: DENY\n  rules:\n  - to:\n    - operation:\n        paths: ["/admin*"]\n'));
    await apply(policy('allow-all', NS, '  rules:\n  - {}\n'));
    expect(await status(reviews, '/admin/x')).to.equal(403);
    expect(await status(ratings, '/admin')).to.equal(403);
    expect(await status(reviews, '/x')).to.equal(200);
    // details has another root namespace: istio-system is an ordinary namespace to it.
    expect(await status(otherRoot, '/admin')).to.equal(200);

    await apply(policy('ratings-post-only', NS, '  selector:\n    matchLabels:\n      app: ratings\n  rules:\n  - to:\n    - operation:\n        methods: ["POST"]\n'));
    // ratings now has two ALLOW policies; a GET matches allow-all, so it passes.
    expect(await status(ratings, '/x')).to.equal(200);
    await remove(NS, 'allow-all');
    expect(await status(ratings, '/x')).to.equal(403);
    expect(await status(reviews, '/x')).to.equal(200);

    await apply(policy('allow-nothing', 'mesh-root', '  {}\n'));
    expect(await status(otherRoot, '/x')).to.equal(403);
    expect(await status(reviews, '/x')).to.equal(200);

    for (const [ns, name] of [['istio-system', 'deny-admin'], [NS, 'ratings-post-only'], ['mesh-root', 'allow-nothing']]) await remove(ns!, name!);
    expect(await status(reviews, '/admin')).to.equal(200);
    expect(await status(ratings, '/x')).to.equal(200);
    expect(await status(otherRoot, '/x')).to.equal(200);
  });

  it('weftd refuses what cannot be enforced, naming the field, and nothing of the batch is stored', async () => {
    const bad = [
      policy('ext', NS, '  action: CUSTOM\n  provider:\n    name: ext-authz\n  rules:\n  - {}\n'),
      policy('jwt', NS, '  rules:\n  - from:\n    - source:\n        requestPrincipals: ["*"]\n'),
    ].join('---\n');
    const res = await adminFetch(`${weftd.adminUrl}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: bad });
    const text = await res.text();
    expect(res.status).to.equal(400);
    expect(text).to.contain('spec.action').and.contain('CUSTOM is not supported by Weft yet');
    expect(text).to.contain('spec.rules[0].from[0].source.requestPrincipals');
    // PeerAuthentication is enforced now (mtls-peer-authentication.test.ts); RequestAuthentication is still refused.
    const ra = 'apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata:\n  name: default\nspec: {}\n';
    const refused = await adminFetch(`${weftd.adminUrl}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: ra });
    expect(refused.status).to.equal(400);
    expect(await refused.text()).to.contain('RequestAuthentication').and.contain('JWT');
    const { items } = (await (await adminFetch(`${weftd.adminUrl}/v1/resources/authorizationpolicies`)).json()) as { items: unknown[] };
    expect(items).to.deep.equal([]);
  });

  it('weftctl applies, lists (with the ACTION column) and deletes AuthorizationPolicies by every name kubectl users type', async () => {
    await applyYaml(weftd.adminUrl, policy('deny-debug', NS, '  action: DENY\n  rules:\n  - to:\n    - operation:\n        paths: ["/debug*"]\n'));
    const weftctl = (...args: string[]) => run(process.execPath, [WEFTCTL_BIN, ...weftctlTarget(weftd.adminUrl), ...args], { timeout: 15_000 });
    for (const kind of ['ap', 'authorizationpolicies', 'authorizationpolicy', 'authorizationpolicies.security.istio.io']) {
      const { stdout } = await weftctl('get', kind, '-n', NS);
      expect(stdout, kind).to.match(/^NAME\s+ACTION\s+AGE\n/).and.match(/\ndeny-debug\s+DENY\s+/);
    }
    const { stdout } = await weftctl('delete', 'ap', 'deny-debug', '-n', NS);
    expect(stdout).to.contain('deny-debug');
    const { items } = (await (await adminFetch(`${weftd.adminUrl}/v1/resources/ap?namespace=${NS}`)).json()) as { items: unknown[] };
    expect(items).to.deep.equal([]);
  });
});
