// The SDK on delta config pushes from a real weftd: applies and deletes reach status() as deltas, and
// a delta that fixes a resource the SDK NACKed (one stored by a newer weftd) makes the config compile
// again, because the SDK keeps NACKed resources in the set its deltas apply to.
import { expect } from 'chai';
import { createMesh, type Mesh } from '@weft/sdk';
import { adminFetch, startWeftd, type WeftdHandle } from '../support/weftd.js';
import { applyYaml, NS, restartWeftdOnSamePorts, waitFor, type RestartedWeftd, storeResourceFromTheFuture } from './sdk-fixtures.js';

const route = (name: string, destination: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: ${NS} }
spec:
  hosts: [${name}]
  http: [{ route: [{ destination: { host: ${destination} } }] }]
`;

interface SessionListing { sessions: { service: string; config: { sentVersion: string; ackedVersion: string } }[] }

async function webSession(adminUrl: string) {
  const { sessions } = (await (await adminFetch(`${adminUrl}/v1/sessions`)).json()) as SessionListing;
  return sessions.find((s) => s.service === 'web');
}

describe('SDK with delta config pushes', function () {
  this.timeout(30000);
  let weftd: WeftdHandle;
  let restarted: RestartedWeftd | undefined;
  let client: Mesh | undefined;

  beforeEach(async () => {
    restarted = undefined;
    weftd = await startWeftd();
    client = await createMesh({ service: 'web', namespace: NS, controlPlane: weftd.grpcAddress, caFile: weftd.caFile, drainTimeoutMs: 500 });
  });

  afterEach(async () => {
    await client?.close();
    await restarted?.stop();
    await weftd?.stop();
  });

  it('follows applies and deletes, ACKing each version', async () => {
    const mesh = client!;
    await applyYaml(weftd.adminUrl, route('catalog', 'catalog'));
    const second = await applyYaml(weftd.adminUrl, route('orders', 'orders'));
    await waitFor('second apply in force', () => mesh.status().configVersion === String(second));
    const res = await adminFetch(`${weftd.adminUrl}/v1/delete`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: route('catalog', 'catalog') });
    const { revision } = (await res.json()) as { revision: number };
    await waitFor('delete in force', () => mesh.status().configVersion === String(revision));
    await waitFor('weftd sees the ACK', async () => (await webSession(weftd.adminUrl))?.config.ackedVersion === String(revision));
    expect(mesh.status().lastNack).to.equal(null);
  });

  it('compiles again when a delta fixes a resource it NACKed', async () => {
    const mesh = client!;
    const good = await applyYaml(weftd.adminUrl, route('catalog', 'catalog'));
    await waitFor('good config in force', () => mesh.status().configVersion === String(good));

    // As after a downgrade: the store holds a resource with a field this SDK does not support.
    await weftd.kill('SIGTERM');
    await storeResourceFromTheFuture(weftd.dataDir);
    const nacked = new Promise<{ version: string; error: string }>((resolve) => mesh.once('nack', resolve));
    restarted = await restartWeftdOnSamePorts(weftd);
    const nack = await nacked;
    expect(nack.error).to.contain(`VirtualService ${NS}/from-the-future: spec.http[0].fault`);

    // An unrelated change is a delta on the NACKed version: still NACKed, the bad resource is still held.
    const unrelated = await applyYaml(weftd.adminUrl, route('orders', 'orders'));
    await waitFor('the unrelated delta NACKed', () => mesh.status().lastNack?.version === String(unrelated));
    expect(mesh.status().lastNack!.error).to.contain('from-the-future');
    expect(mesh.status().configVersion).to.equal(String(good));

    const fixed = await applyYaml(weftd.adminUrl, route('from-the-future', 'other'));
    await waitFor('the fixing delta applied', () => mesh.status().configVersion === String(fixed));
    await waitFor('weftd sees the ACK', async () => (await webSession(weftd.adminUrl))?.config.ackedVersion === String(fixed));
  });
});
