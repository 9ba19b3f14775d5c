// The SDK against a real weftd: registration through mesh.serve, discovery, balancing and routing
// that follows applied config.
import { expect } from 'chai';
import { createMesh, isWeftError, type Mesh } from '@weft/sdk';
import { startWeftd, type WeftdHandle } from '../support/weftd.js';
import { applyYaml, NS, sequence, startWorkload, tally, waitFor, type Workload } from './sdk-fixtures.js';

const CATALOG = `catalog.${NS}.svc.cluster.local`;

const drRoundRobin = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: catalog, namespace: ${NS} }
spec:
  host: catalog
  trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
`;

describe('SDK with weftd: discovery, balancing, routing', function () {
  this.timeout(30000);
  let weftd: WeftdHandle;
  let workloads: Workload[];
  let client: Mesh;

  beforeEach(async () => {
    weftd = await startWeftd();
    workloads = [
      await startWorkload(weftd.grpcAddress, 'catalog', 'catalog-v1', { version: 'v1' }),
      await startWorkload(weftd.grpcAddress, 'catalog', 'catalog-v2', { version: 'v2' }),
    ];
    client = await createMesh({ service: 'web', namespace: NS, controlPlane: weftd.grpcAddress, caFile: weftd.caFile, subscribe: ['catalog'] });
    await waitFor('both catalog endpoints in the client view', () => client.status().hosts[CATALOG] === 2);
  });

  afterEach(async () => {
    await client?.close();
    for (const w of workloads ?? []) await w.mesh.close();
    await weftd?.stop();
  });

  it('reports its session and view in status()', () => {
    const s = client.status();
    expect(s.connected).to.equal(true);
    expect(s.sessionId).to.be.a('string').and.not.empty;
    expect(s.lastNack).to.equal(null);
    expect(s.hosts).to.deep.include({ [CATALOG]: 2 });
  });

  it('balances over both endpoints by default (LEAST_REQUEST), through fetch and request', async () => {
    const counts = await tally(client, 'http://catalog/items', 200, 4);
    expect(counts['catalog-v1']).to.be.greaterThan(40);
    expect(counts['catalog-v2']).to.be.greaterThan(40);
    const res = await client.fetch('http://catalog.shop:8080/items');
    expect(res.status).to.equal(200);
    expect(['catalog-v1', 'catalog-v2']).to.include(((await res.json()) as { name: string }).name);
  });

  it('ROUND_ROBIN from a DestinationRule rotates exactly; the applied version reaches status()', async () => {
    const revision = await applyYaml(weftd.adminUrl, drRoundRobin);
    await waitFor('config version', () => client.status().configVersion === String(revision));
    const seq = await sequence(client, 'http://catalog/', 20);
    for (let i = 2; i < seq.length; i++) expect(seq[i], `request ${i} of ${seq.join(',')}`).to.equal(seq[i - 2]);
    expect(seq[0]).to.not.equal(seq[1]);
  });

  it('LEAST_REQUEST sends fewer requests to a slow endpoint', async () => {
    const slow = await startWorkload(weftd.grpcAddress, 'catalog', 'catalog-slow', { version: 'slow' }, 50);
    workloads.push(slow);
    await waitFor('three endpoints', () => client.status().hosts[CATALOG] === 3);
    const counts = await tally(client, 'http://catalog/', 300, 8);
    const slowShare = (counts['catalog-slow'] ?? 0) / 300;
    expect(slowShare, JSON.stringify(counts)).to.be.below(0.2); // a fair share would be 1/3
  });

  it('routes by a VirtualService header match and by weights; routing follows each apply', async () => {
    await applyYaml(weftd.adminUrl, drRoundRobin);
    const revision = await applyYaml(weftd.adminUrl, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: catalog, namespace: ${NS} }
spec:
  hosts: [catalog]
  http:
  - match: [{ headers: { end-user: { exact: jason } } }]
    route: [{ destination: { host: catalog, subset: v2 } }]
  - route: [{ destination: { host: catalog, subset: v1 } }]
`);
    await waitFor('config version', () => client.status().configVersion === String(revision));
    expect(await tally(client, 'http://catalog/', 30, 3, { 'end-user': 'jason' })).to.deep.equal({ 'catalog-v2': 30 });
    expect(await tally(client, 'http://catalog/', 30, 3)).to.deep.equal({ 'catalog-v1': 30 });

    const next = await applyYaml(weftd.adminUrl, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: catalog, namespace: ${NS} }
spec:
  hosts: [catalog]
  http:
  - route:
    - { destination: { host: catalog, subset: v1 }, weight: 0 }
    - { destination: { host: catalog, subset: v2 }, weight: 100 }
`);
    await waitFor('config version', () => client.status().configVersion === String(next));
    expect(await tally(client, 'http://catalog/', 30, 3)).to.deep.equal({ 'catalog-v2': 30 });
  });

  it('subscribes the destination hosts a VirtualService of a subscribed host routes to', async () => {
    const backup = await startWorkload(weftd.grpcAddress, 'catalog-backup', 'backup', {});
    workloads.push(backup);
    const revision = await applyYaml(weftd.adminUrl, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: catalog, namespace: ${NS} }
spec:
  hosts: [catalog]
  http:
  - route: [{ destination: { host: catalog-backup } }]
`);
    await waitFor('config version', () => client.status().configVersion === String(revision));
    // No request has named catalog-backup yet: the subscription came from the compiled route.
    await waitFor('catalog-backup in the view', () => client.status().hosts[`catalog-backup.${NS}.svc.cluster.local`] === 1);
    expect(await tally(client, 'http://catalog/', 5)).to.deep.equal({ backup: 5 });
  });

  it('fails fast with NO_HEALTHY_UPSTREAM for a host without endpoints', async () => {
    const started = Date.now();
    const e = await client.request('http://nobody/').catch((err: unknown) => err);
    expect(Date.now() - started).to.be.below(1000);
    expect(isWeftError(e) && e.code).to.equal('NO_HEALTHY_UPSTREAM');
    expect((e as Error).message).to.equal(`no healthy upstream for nobody.${NS}.svc.cluster.local (route default to nobody.${NS}.svc.cluster.local; 1 attempt, no endpoint picked)`);
    const again = Date.now();
    await client.request('http://nobody/').catch(() => undefined);
    expect(Date.now() - again).to.be.below(100);
  });

  it('concurrent first requests to a host share one discovery', async () => {
    const fresh = await createMesh({ service: 'web2', namespace: NS, controlPlane: weftd.grpcAddress, caFile: weftd.caFile });
    try {
      const answers = await Promise.all(Array.from({ length: 10 }, () => fresh.request('http://catalog/').then((r) => r.body.json())));
      expect(answers).to.have.length(10);
      expect(fresh.status().hosts[CATALOG]).to.equal(2);
    } finally {
      await fresh.close();
    }
  });

  it('close() deregisters: the other meshes drop the endpoint', async () => {
    const leaving = workloads.pop()!;
    const started = Date.now();
    await leaving.mesh.close();
    expect(leaving.server.listening).to.equal(false);
    await waitFor('catalog down to one endpoint', () => client.status().hosts[CATALOG] === 1, 2000);
    expect(Date.now() - started).to.be.below(2000);
    expect(await tally(client, 'http://catalog/', 20, 2)).to.deep.equal({ 'catalog-v1': 20 });
  });

  it('closing a served server deregisters it; a closed mesh rejects with MESH_CLOSED', async () => {
    const w = workloads.pop()!;
    await new Promise((r) => w.server.close(r));
    w.server.closeAllConnections();
    await waitFor('catalog down to one endpoint', () => client.status().hosts[CATALOG] === 1, 2000);
    await w.mesh.close();
    const e = await w.mesh.request('http://catalog/').catch((err: unknown) => err);
    expect(isWeftError(e) && e.code).to.equal('MESH_CLOSED');
  });
});
