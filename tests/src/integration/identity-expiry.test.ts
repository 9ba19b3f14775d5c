// A workload whose certificate expired while weftd was down (an outage longer than half the lifetime):
// on reconnect its certificate proves nothing, so it holds its endpoints back, enrols again with its
// join token, and registers once it holds a new certificate, with no refused session on the way.
// Before the fix it sent its endpoints with the Hello, weftd refused them, and it looped ten times a
// second without ever registering again.
import { createMesh, type Mesh } from '@weft/sdk';
import { expect } from 'chai';
import { restartWeftdOnSamePorts, waitFor, type RestartedWeftd } from './sdk-fixtures.js';
import { adminFetch, caFileOf, createToken, startWeftd, type WeftdHandle } from '../support/weftd.js';

const NS = 'shop';

describe('identity: a certificate that expired while weftd was down', function () {
  this.timeout(60_000);
  let weftd: WeftdHandle;
  let restarted: RestartedWeftd | undefined;
  const meshes: Mesh[] = [];

  beforeEach(async () => {
    weftd = await startWeftd({ args: ['--cert-ttl', '4s'] });
  });
  afterEach(async () => {
    await Promise.all(meshes.splice(0).map((m) => m.close()));
    await restarted?.stop();
    restarted = undefined;
    await weftd.stop();
  });

  it('enrols again with its join token and registers, without a refused session', async () => {
    const base = { namespace: NS, controlPlane: weftd.grpcAddress, shutdownSignals: [] as never[], drainTimeoutMs: 300, initialTimeoutMs: 8000 };
    const cart = await createMesh({ ...base, service: 'cart', serviceAccount: 'cart-sa', token: await createToken(weftd.adminUrl, NS, 'cart-sa') });
    meshes.push(cart);
    const errors: string[] = [];
    cart.on('error', (e: Error) => errors.push(e.message));
    await cart.serve((_req, res) => res.end('cart'), { host: '127.0.0.1', port: 0 });
    const caller = await createMesh({ ...base, service: 'web', caFile: caFileOf(weftd.grpcAddress), subscribe: ['cart'] });
    meshes.push(caller);
    expect(await (await caller.request('http://cart/')).body.text()).to.equal('cart');

    await weftd.kill('SIGKILL');
    const expiry = Date.parse(cart.status().identity!.expiresAt);
    await new Promise((r) => setTimeout(r, Math.max(0, expiry - Date.now()) + 1000)); // the certificate is now expired
    restarted = await restartWeftdOnSamePorts(weftd);
    const registered = async () => {
      const res = await adminFetch(`${weftd.adminUrl}/v1/services`);
      const { services } = (await res.json()) as { services: Array<{ service: string; instances: unknown[] }> };
      return services.some((s) => s.service === 'cart' && s.instances.length === 1);
    };
    await waitFor('cart registered again after enrolling anew', registered, 20_000);
    expect(Date.parse(cart.status().identity!.expiresAt)).to.be.greaterThan(Date.now());
    expect(errors.join('\n')).to.match(/certificate expired at .* enrolling again with the join token/);
    await waitFor('the caller to reach cart again', async () => {
      try {
        return (await (await caller.request('http://cart/')).body.text()) === 'cart';
      } catch {
        return false;
      }
    }, 10_000);
    // No session was refused for registering without a proof.
    expect(restarted.output()).not.to.match(/registering endpoints needs a proven identity/);
  });
});
