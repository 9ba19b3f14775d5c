// The config store's limits end to end: what weftd accepts it can deliver. A stored config larger
// than gRPC's default 4 MiB still reaches a new workload (its first ConfigUpdate is the whole config),
// an apply that would take the stored config past MAX_STORED_CONFIG_BYTES is refused with 413 naming
// the limit and the sizes, and so is a batch of more than MAX_RESOURCES_PER_BATCH resources.
import { expect } from 'chai';
import { MAX_RESOURCES_PER_BATCH, MAX_STORED_CONFIG_BYTES } from '@weft/api';
import { createMesh, type Mesh } from '@weft/sdk';
import { adminFetch, startWeftd, type WeftdHandle } from '../support/weftd.js';

/** VirtualServices of about 5 KB each: 20 routes with long URI prefixes, one host each. */
function bulkyVirtualServices(prefix: string, count: number): object[] {
  return Array.from({ length: count }, (_, i) => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: `${prefix}-${i}`, namespace: 'bulk' },
    spec: {
      hosts: [`${prefix}-${i}`],
      http: Array.from({ length: 20 }, (_, r) => ({
        match: [{ uri: { prefix: `/${r}-${'p'.repeat(150)}` } }],
        route: [{ destination: { host: `${prefix}-${i}` } }],
      })),
    },
  }));
}

async function post(weftd: WeftdHandle, verb: 'apply' | 'delete', objects: object[]): Promise<{ status: number; body: { revision?: number; error?: string } }> {
  const res = await adminFetch(`${weftd.adminUrl}/v1/${verb}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resources: objects.map((object) => ({ object })) }),
  });
  return { status: res.status, body: (await res.json()) as { revision?: number; error?: string } };
}

describe('registry limits: the stored config', function () {
  this.timeout(30_000);
  let weftd: WeftdHandle;
  const meshes: Mesh[] = [];
  beforeEach(async () => (weftd = await startWeftd()));
  afterEach(async () => {
    await Promise.all(meshes.splice(0).map((m) => m.close()));
    await weftd.stop();
  });

  it('delivers a stored config larger than 4 MiB to a new workload', async () => {
    let revision = 0;
    for (const part of ['a', 'b']) {
      const r = await post(weftd, 'apply', bulkyVirtualServices(`big-${part}`, 500));
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      revision = r.body.revision!;
    }
    // A client-only workload: no token, weftd trusted by its ca.pem.
    const mesh = await createMesh({ service: 'newcomer', namespace: 'bulk', controlPlane: weftd.grpcAddress, caFile: weftd.caFile, initialTimeoutMs: 15_000, shutdownSignals: [] });
    meshes.push(mesh);
    expect(mesh.status().configVersion).to.equal(String(revision));
    expect(mesh.status().lastNack).to.equal(null);
  });

  it(`refuses with 413 an apply that would take the stored config past ${MAX_STORED_CONFIG_BYTES} bytes, and accepts it after a delete`, async () => {
    const batches = ['a', 'b', 'c', 'd', 'e'].map((p) => bulkyVirtualServices(`vs-${p}`, 700));
    for (const batch of batches.slice(0, 4)) {
      const r = await post(weftd, 'apply', batch);
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
    }
    const refused = await post(weftd, 'apply', batches[4]!);
    expect(refused.status).to.equal(413);
    expect(refused.body.error).to.match(/the stored config would be \d+ bytes after this apply \(now \d+\); its limit is 16777216 bytes \(MAX_STORED_CONFIG_BYTES\)/);
    expect(refused.body.error).to.contain('nothing was applied');
    const listed = (await (await adminFetch(`${weftd.adminUrl}/v1/resources/virtualservices?namespace=bulk`)).json()) as { items: unknown[] };
    expect(listed.items).to.have.length(4 * 700);

    const deleted = await post(weftd, 'delete', batches[0]!);
    expect(deleted.status, JSON.stringify(deleted.body)).to.equal(200);
    const accepted = await post(weftd, 'apply', batches[4]!);
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(200);
  });

  it(`refuses with 413 a batch of more than ${MAX_RESOURCES_PER_BATCH} resources`, async () => {
    const objects = Array.from({ length: MAX_RESOURCES_PER_BATCH + 1 }, (_, i) => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: `dr-${i}`, namespace: 'bulk' },
      spec: { host: `svc-${i}` },
    }));
    const applied = await post(weftd, 'apply', objects);
    expect(applied.status).to.equal(413);
    expect(applied.body.error).to.contain(`holds ${MAX_RESOURCES_PER_BATCH + 1} resources`).and.contain('MAX_RESOURCES_PER_BATCH');
    const deleted = await post(weftd, 'delete', objects);
    expect(deleted.status).to.equal(413);
    expect((await post(weftd, 'apply', objects.slice(0, MAX_RESOURCES_PER_BATCH))).status).to.equal(200);
  });
});
