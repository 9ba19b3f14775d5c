// Static stability: weftd going away must be invisible to traffic. The SDK keeps its last view,
// reconnects by itself when weftd is back on the same address, re-registers and re-subscribes.
// And a config it cannot apply (a stored resource from a newer weftd) is NACKed while the last good
// config stays in force.
import { expect } from 'chai';
import { createMesh, type Mesh } from '@weft/sdk';
import { adminFetch, startWeftd, type WeftdHandle } from '../support/weftd.js';
import { applyYaml, NS, restartWeftdOnSamePorts, startWorkload, tally, waitFor, type RestartedWeftd, type Workload, storeResourceFromTheFuture } from './sdk-fixtures.js';

const CATALOG = `catalog.${NS}.svc.cluster.local`;

const allToV1 = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: catalog, namespace: ${NS} }
spec:
  host: catalog
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: catalog, namespace: ${NS} }
spec:
  hosts: [catalog]
  http:
  - route: [{ destination: { host: catalog, subset: v1 } }]
`;

interface ServiceListing { services: { host: string; instances: { workloadName: string; connected: boolean }[] }[] }

async function registeredWorkloads(adminUrl: string): Promise<string[]> {
  const res = await adminFetch(`${adminUrl}/v1/services`);
  const body = (await res.json()) as ServiceListing;
  return (body.services.find((s) => s.host === CATALOG)?.instances ?? []).filter((i) => i.connected).map((i) => i.workloadName).sort();
}

describe('SDK static stability with weftd', function () {
  this.timeout(45000);
  let weftd: WeftdHandle;
  let restarted: RestartedWeftd | undefined;
  let workloads: Workload[];
  let client: Mesh;

  beforeEach(async () => {
    restarted = undefined;
    weftd = await startWeftd();
    workloads = [
      await startWorkload(weftd.grpcAddress, 'catalog', 'catalog-v1', { version: 'v1' }),
      await startWorkload(weftd.grpcAddress, 'catalog', 'catalog-v2', { version: 'v2' }),
    ];
    client = await createMesh({ service: 'web', namespace: NS, controlPlane: weftd.grpcAddress, caFile: weftd.caFile, subscribe: ['catalog'], drainTimeoutMs: 1000 });
    await waitFor('both catalog endpoints in the client view', () => client.status().hosts[CATALOG] === 2);
  });

  afterEach(async () => {
    await client?.close();
    for (const w of workloads ?? []) await w.mesh.close();
    await restarted?.stop();
    await weftd?.stop();
  });

  it('keeps routing with its last view while weftd is down, then reconnects and re-registers by itself', async () => {
    const disconnected = new Promise((resolve) => client.once('disconnected', resolve));
    await weftd.kill('SIGKILL');
    await disconnected;
    expect(client.status().connected).to.equal(false);
    const during = await tally(client, 'http://catalog/', 60, 4);
    expect(during['catalog-v1']).to.be.greaterThan(10);
    expect(during['catalog-v2']).to.be.greaterThan(10);

    const firstSession = client.status().sessionId;
    restarted = await restartWeftdOnSamePorts(weftd);
    await waitFor('client reconnected', () => client.status().connected, 10000);
    expect(client.status().sessionId).to.not.equal(firstSession);
    await waitFor('both workloads registered again', async () => (await registeredWorkloads(weftd.adminUrl)).length === 2, 10000);
    expect(await registeredWorkloads(weftd.adminUrl)).to.deep.equal(['catalog-v1', 'catalog-v2']);
    expect(client.status().hosts[CATALOG]).to.equal(2);

    // The subscription was re-sent: a workload that starts now reaches the client's view, and config pushes flow again.
    const late = await startWorkload(weftd.grpcAddress, 'catalog', 'catalog-v3', { version: 'v3' });
    workloads.push(late);
    await waitFor('the new workload in the client view', () => client.status().hosts[CATALOG] === 3, 10000);
    const revision = await applyYaml(weftd.adminUrl, allToV1);
    await waitFor('config after restart', () => client.status().configVersion === String(revision), 5000);
    expect(await tally(client, 'http://catalog/', 20, 2)).to.deep.equal({ 'catalog-v1': 20 });
  });

  it('NACKs a stored resource it cannot validate, keeps the last good config, and weftd shows the NACK', async () => {
    const good = await applyYaml(weftd.adminUrl, allToV1);
    await waitFor('good config applied', () => client.status().configVersion === String(good));
    expect(await tally(client, 'http://catalog/', 10, 2)).to.deep.equal({ 'catalog-v1': 10 });

    // As after a downgrade: the store holds a resource with a field this version does not support.
    await weftd.kill('SIGTERM');
    await storeResourceFromTheFuture(weftd.dataDir);

    const nacked = new Promise<{ version: string; error: string }>((resolve) => client.once('nack', resolve));
    restarted = await restartWeftdOnSamePorts(weftd);
    const nack = await nacked;
    expect(nack.error).to.match(new RegExp(`VirtualService ${NS}/from-the-future: spec\\.http\\[0\\]\\.fault`));
    expect(client.status().lastNack).to.deep.equal(nack);
    expect(client.status().configVersion).to.equal(String(good));
    expect(await tally(client, 'http://catalog/', 10, 2)).to.deep.equal({ 'catalog-v1': 10 });

    await waitFor('weftd reports the NACK', async () => {
      const res = await adminFetch(`${weftd.adminUrl}/v1/sessions`);
      const { sessions } = (await res.json()) as { sessions: { service: string; config: { nack: { error: string } | null } }[] };
      return sessions.some((s) => s.service === 'web' && (s.config.nack?.error ?? '').includes('spec.http[0].fault'));
    });
  });
});
