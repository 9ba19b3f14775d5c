// PeerAuthentication enforced by mesh.serve, against a real weftd: STRICT closes plaintext connections
// (logged, with the reason) and keeps serving mTLS callers; a workload-level DISABLE overrides a
// namespace-wide STRICT, and callers follow it to plaintext (the endpoint is re-registered without mTLS).
import { createMesh, isWeftError, type InboundRefusal, type Mesh } from '@weft/sdk';
import { expect } from 'chai';
import { adminFetch, joinToken, startWeftd, type WeftdHandle } from '../support/weftd.js';
import { applyYaml, waitFor } from './sdk-fixtures.js';

const NS = 'shop';

const token = (weftd: WeftdHandle, serviceAccount: string): Promise<string> => joinToken(weftd, NS, serviceAccount);

describe('PeerAuthentication', function () {
  this.timeout(30000);
  let weftd: WeftdHandle;
  const meshes: Mesh[] = [];
  const mesh = async (service: string, serviceAccount: string | null, extra: Record<string, unknown> = {}): Promise<Mesh> => {
    const m = await createMesh({
      service, namespace: NS, controlPlane: weftd.grpcAddress, shutdownSignals: [], drainTimeoutMs: 300, initialTimeoutMs: 8000,
      // Without a service account: no token, no certificate; it trusts weftd by its ca.pem and calls in plaintext.
      ...(serviceAccount ? { serviceAccount, token: await token(weftd, serviceAccount) } : { caFile: weftd.caFile }), ...extra,
    });
    meshes.push(m);
    return m;
  };
  const call = async (m: Mesh): Promise<string> => {
    try {
      const r = await m.request('http://cart/');
      return `${r.statusCode} ${await r.body.text()}`;
    } catch (e) {
      return isWeftError(e) ? e.code : String(e);
    }
  };

  beforeEach(async () => {
    weftd = await startWeftd();
  });
  afterEach(async () => {
    await Promise.all(meshes.splice(0).map((m) => m.close()));
    await weftd.stop();
  });

  it('STRICT refuses a plaintext caller and keeps serving mTLS callers; a workload DISABLE overrides it', async () => {
    const server = await mesh('cart', 'cart-sa');
    await server.serve((req, res) => res.end(server.peer(req)?.principal ?? 'plaintext'));
    const refusals: InboundRefusal[] = [];
    server.on('inboundRefused', (r: InboundRefusal) => refusals.push(r));
    const secure = await mesh('web', 'web-sa', { subscribe: ['cart'] });
    const plain = await mesh('legacy', null, { subscribe: ['cart'] });
    expect(await call(plain)).to.equal('200 plaintext');

    await applyYaml(weftd.adminUrl, `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: ${NS} }
spec:
  mtls: { mode: STRICT }
`);
    await waitFor('STRICT at the server', async () => (await call(plain)) !== '200 plaintext');
    expect(await call(plain)).to.match(/^UPSTREAM_(RESET|CONNECT_FAILURE)$/);
    expect(await call(secure)).to.equal(`200 cluster.local/ns/${NS}/sa/web-sa`);
    expect(refusals[0]?.reason).to.equal('PLAINTEXT_IN_STRICT');
    expect(refusals[0]?.message).to.match(/STRICT on port \d+ requires mTLS/);

    await applyYaml(weftd.adminUrl, `apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata: { name: cart, namespace: ${NS} }
spec:
  selector: { matchLabels: { app: cart } }
  mtls: { mode: DISABLE }
`);
    // The endpoint is re-registered without mTLS, so both callers now send plaintext.
    await waitFor('DISABLE at the server and its callers', async () => (await call(secure)) === '200 plaintext' && (await call(plain)) === '200 plaintext', 8000);
  });

  // A workload without a certificate used to serve plaintext and be refused by STRICT at each
  // connection; now it has no identity to register endpoints with, so it cannot serve at all.
  it('a workload without a certificate cannot serve, STRICT or not: mesh.serve is refused before it listens', async () => {
    await applyYaml(weftd.adminUrl, `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: ${NS} }
spec:
  mtls: { mode: STRICT }
`);
    const server = await mesh('cart', null);
    const e = await server.serve((_req, res) => res.end('plaintext'), { port: 0, host: '127.0.0.1' }).then(() => undefined, (err: unknown) => err);
    expect(isWeftError(e) && e.code, String(e)).to.equal('INVALID_ARGUMENT');
    expect((e as Error).message).to.include(`needs its identity: create the mesh with a join token for namespace ${NS}, service account default`);
    const { services } = (await (await adminFetch(`${weftd.adminUrl}/v1/services`)).json()) as { services: { host: string; instances: unknown[] }[] };
    expect(services.find((s) => s.host === `cart.${NS}.svc.cluster.local`)?.instances).to.deep.equal([]);
  });
});
