// Certificate renewal under load: with --cert-ttl 4s both ends renew about every 2 s. The server makes
// each new handshake's context from the certificate current then, the client opens a new pool per
// certificate generation and lets the old one finish; no request may fail meanwhile.
import { createMesh, type Mesh } from '@weft/sdk';
import { expect } from 'chai';
import { steadyLoad } from '../support/steady-load.js';
import { joinToken, startWeftd, type WeftdHandle } from '../support/weftd.js';

const NS = 'shop';

const token = (weftd: WeftdHandle, serviceAccount: string): Promise<string> => joinToken(weftd, NS, serviceAccount);

describe('mTLS: certificate rotation under continuous load', function () {
  this.timeout(40000);
  let weftd: WeftdHandle;
  const meshes: Mesh[] = [];

  beforeEach(async () => {
    weftd = await startWeftd({ args: ['--cert-ttl', '4s'] });
  });
  afterEach(async () => {
    await Promise.all(meshes.splice(0).map((m) => m.close()));
    await weftd.stop();
  });

  it('fails no request while both ends renew their certificates, and new connections use the new ones', async () => {
    const base = { namespace: NS, controlPlane: weftd.grpcAddress, shutdownSignals: [] as never[], drainTimeoutMs: 300, initialTimeoutMs: 8000 };
    const server = await createMesh({ ...base, service: 'cart', serviceAccount: 'cart-sa', token: await token(weftd, 'cart-sa') });
    meshes.push(server);
    const certsSeen = new Set<string>();
    await server.serve((req, res) => {
      const peer = server.peer(req);
      res.end(peer ? peer.principal : 'plaintext');
    });
    // A new connection shows the server's current certificate: count the distinct ones callers saw.
    server.on('inboundRefused', (r: { message: string }) => certsSeen.add(`refused: ${r.message}`));
    const caller = await createMesh({ ...base, service: 'web', serviceAccount: 'web-sa', token: await token(weftd, 'web-sa'), subscribe: ['cart'] });
    meshes.push(caller);
    const firstServer = server.identity!.tls()!.generation;
    const firstCaller = caller.identity!.tls()!.generation;
    const load = steadyLoad(caller, 'http://cart/', `cluster.local/ns/${NS}/sa/web-sa`);
    await new Promise((r) => setTimeout(r, 6000)); // three renewals of each end at --cert-ttl 4s
    const { ok, failures } = await load.stop();
    expect([...certsSeen]).to.deep.equal([]);
    expect(failures, failures.slice(0, 3).join('\n')).to.deep.equal([]);
    expect(ok).to.be.greaterThan(100);
    expect(server.identity!.tls()!.generation).to.be.greaterThan(firstServer + 1);
    expect(caller.identity!.tls()!.generation).to.be.greaterThan(firstCaller + 1);
  });
});
