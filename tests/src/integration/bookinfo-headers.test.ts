// Header propagation across the mesh (ISTIO-REFERENCE 1.4): productpage → reviews v2 → a stand-in
// `ratings` (a plain handler registered with its own createMesh) that records what reached it. Every
// workload has its own join token, so the hops are mTLS; the stand-in also records who called it.
import type { IncomingHttpHeaders } from 'node:http';
import { expect } from 'chai';
import { createMesh } from '@weft/sdk';
import { logIn, startDetails, startProductPage, startReviews, waitForInstances, type RunningWorkload } from '@weft/bookinfo';
import { startWeftd, type WeftdHandle } from '../support/weftd.js';
import { bookinfoToken } from '../support/bookinfo.js';

describe('Bookinfo header forwarding over the mesh', function () {
  this.timeout(60_000);
  let weftd: WeftdHandle;
  let ratingsMesh: Awaited<ReturnType<typeof createMesh>> | undefined;
  const workloads: RunningWorkload[] = [];
  const seenByRatings: IncomingHttpHeaders[] = [];
  const callersOfRatings: Array<string | undefined> = [];
  let productpage: string;

  before(async () => {
    weftd = await startWeftd();
    const controlPlane = weftd.grpcAddress;
    const token = (service: string) => bookinfoToken(weftd, service);
    const mesh = (ratingsMesh = await createMesh({
      service: 'ratings',
      namespace: 'default',
      labels: { version: 'v1' },
      serviceAccount: 'bookinfo-ratings',
      controlPlane,
      token: await token('ratings'),
    }));
    await mesh.serve(
      (req, res) => {
        seenByRatings.push(req.headers);
        callersOfRatings.push(mesh.peer(req)?.principal);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id":0,"ratings":{"Reviewer1":3,"Reviewer2":2}}');
      },
      { port: 0, host: '127.0.0.1', servicePort: 9080 },
    );
    workloads.push(
      await startDetails({ controlPlane, token: await token('details') }),
      await startReviews({ controlPlane, version: 'v2', token: await token('reviews'), env: { HOSTNAME: 'reviews-v2-headers' } }),
      await startProductPage({ controlPlane, token: await token('productpage') }),
    );
    productpage = workloads[2]!.url;
    await waitForInstances(weftd, { 'ratings-v1': 1, 'details-v1': 1, 'reviews-v2': 1, 'productpage-v1': 1 }, { timeoutMs: 15_000 });
  });

  after(async () => {
    await Promise.all(workloads.splice(0).map((w) => w.close()));
    await ratingsMesh?.close();
    await weftd?.stop();
  });

  beforeEach(() => {
    seenByRatings.length = 0;
    callersOfRatings.length = 0;
  });

  it('carries x-request-id, W3C, B3 and the logged-in end-user from the browser to ratings', async () => {
    const cookie = await logIn(productpage, 'jason');
    const incoming = {
      cookie,
      'x-request-id': 'a7d0b1b3-5c2f-4f6e-9d1c-1d2e3f405162',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'congo=t61rcWkgMzE',
      'x-b3-traceid': '463ac35c9f6413ad48485a3953bb6124',
      'x-b3-spanid': 'a2fb4a1d1a96d312',
      'x-b3-sampled': '1',
      'x-datadog-trace-id': '123',
      sw8: '1-abc',
      authorization: 'Bearer token-1',
      'user-agent': 'bookinfo-test/1.0',
    };
    const html = await (await fetch(`${productpage}/productpage`, { headers: incoming })).text();
    expect(html).to.contain('Reviews served by: <span class="podname">reviews-v2-headers</span>');
    expect(html.match(/star-filled text-black-500/g)).to.have.length(5); // 3 + 2 from the stand-in ratings
    expect(seenByRatings).to.have.length(1);
    const seen = seenByRatings[0]!;
    for (const [name, value] of Object.entries(incoming)) expect(seen[name], name).to.equal(value);
    expect(seen['end-user']).to.equal('jason');
    // Over mTLS: ratings knows its caller by reviews' certificate, not by anything the browser sent.
    expect(callersOfRatings).to.deep.equal(['cluster.local/ns/default/sa/bookinfo-reviews']);
  });

  it('turns a single b3 header into the multi-header form productpage forwards', async () => {
    await fetch(`${productpage}/productpage`, { headers: { b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' } });
    const seen = seenByRatings[0]!;
    expect(seen['x-b3-traceid']).to.equal('80f198ee56343ba864fe8b2a57d3eff7');
    expect(seen['x-b3-spanid']).to.equal('e457b5a2e4d86bd1');
    expect(seen['x-b3-sampled']).to.equal('1');
  });

  it('never copies an end-user header sent by the browser', async () => {
    await fetch(`${productpage}/productpage`, { headers: { 'end-user': 'jason' } });
    expect(seenByRatings).to.have.length(1);
    expect(seenByRatings[0]!['end-user']).to.equal(undefined);
  });
});
