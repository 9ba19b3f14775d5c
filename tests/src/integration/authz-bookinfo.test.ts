// Istio's HTTP authorization task on Bookinfo (https://istio.io/latest/docs/tasks/security/authorization/authz-http/):
// a real weftd, every Bookinfo service in this process on its own mesh session, the task's files
// applied with weftctl in Istio's order. Every workload has its identity (a serving workload must), but
// DestinationRules with tls.mode DISABLE for details, reviews and ratings make their callers send
// plaintext, as callers without a sidecar would in Istio: no request carries a principal, and the
// principal-based viewers (details, reviews, ratings) deny every plaintext caller, exactly as Istio
// does. The full step-by-step matrix, where those viewers let productpage and reviews through over
// mTLS, is mtls-bookinfo-authz.test.ts.
import { expect } from 'chai';
import { waitForConfig, weftctlApply } from '@weft/bookinfo';
import { adminFetch, startWeftd, type WeftdHandle } from '../support/weftd.js';
import { applyYaml } from './sdk-fixtures.js';
import { startBookinfo, type InProcessBookinfo } from '../support/bookinfo.js';

const DENIED = { status: 403, body: 'RBAC: access denied' };
const BOOKINFO = ['productpage', 'details', 'reviews', 'ratings'];
/** Calls to these services go out in plaintext (no client certificate, so no principal). */
const PLAINTEXT_CALLS = ['details', 'reviews', 'ratings']
  .map((host) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ${host}-plaintext
  namespace: default
spec:
  host: ${host}
  trafficPolicy:
    tls:
      mode: DISABLE
`)
  .join('---\n');

async function get(url: string, init: RequestInit = {}): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

describe('Bookinfo HTTP authorization task (plaintext: before mTLS)', function () {
  this.timeout(60_000);
  let weftd: WeftdHandle;
  let bookinfo: InProcessBookinfo | undefined;
  let url: Record<string, string>;

  before(async () => {
    weftd = await startWeftd();
    bookinfo = await startBookinfo(weftd, 'authz');
    url = bookinfo.url;
    await waitForConfig(weftd, await applyYaml(weftd.adminUrl, PLAINTEXT_CALLS), BOOKINFO, { timeoutMs: 10_000 });
  });

  after(async () => {
    await bookinfo?.close();
    await weftd?.stop();
  });

  /** Removes every AuthorizationPolicy, so that each test starts from an open mesh, and waits until every workload has that. */
  beforeEach(async () => {
    const { items } = (await (await adminFetch(`${weftd.adminUrl}/v1/resources/authorizationpolicies`)).json()) as { items: { metadata: { namespace: string; name: string } }[] };
    let revision = 0;
    for (const { metadata } of items) {
      const res = await adminFetch(`${weftd.adminUrl}/v1/resources/authorizationpolicies/${metadata.namespace}/${metadata.name}`, { method: 'DELETE' });
      revision = ((await res.json()) as { revision: number }).revision;
    }
    if (revision > 0) await waitForConfig(weftd, revision, BOOKINFO, { timeoutMs: 10_000 });
  });

  /** Applies the files with weftctl, one apply each as the task does, and waits until every Bookinfo workload has ACKed them. */
  async function apply(...files: string[]): Promise<void> {
    for (const file of files) {
      const out = await weftctlApply(weftd, [file]);
      expect(out.join('\n')).to.match(/^authorizationpolicy\.security\.istio\.io\/\S+ (created|configured|unchanged)$/m);
    }
    const { items } = (await (await adminFetch(`${weftd.adminUrl}/v1/resources/authorizationpolicies`)).json()) as { items: { metadata: { resourceVersion: string } }[] };
    const revision = Math.max(...items.map((i) => Number(i.metadata.resourceVersion)));
    await waitForConfig(weftd, revision, BOOKINFO, { timeoutMs: 10_000 });
  }

  it('allow-nothing: productpage answers 403 RBAC: access denied, and so does every service', async () => {
    await apply('bookinfo-policy-allow-nothing.yaml');
    const page = await get(`${url['productpage-v1']}/productpage`);
    expect({ status: page.status, body: page.body }).to.deep.equal(DENIED);
    expect(page.type).to.equal('text/plain');
    for (const w of ['details-v1', 'reviews-v1', 'ratings-v1']) {
      const r = await get(`${url[w]}/health`);
      expect({ status: r.status, body: r.body }, w).to.deep.equal(DENIED);
    }
  });

  it('+ productpage-viewer: the page renders, but details and reviews are unavailable to it', async () => {
    await apply('bookinfo-policy-allow-nothing.yaml', 'productpage-viewer.yaml');
    const page = await get(`${url['productpage-v1']}/productpage`);
    expect(page.status).to.equal(200);
    expect(page.body).to.contain('Error fetching product details!').and.contain('Sorry, product details are currently unavailable for this book.');
    expect(page.body).to.contain('Error fetching product reviews!').and.contain('Sorry, product reviews are currently unavailable for this book.');
    // GET only: productpage-viewer lets no other method through.
    const login = await get(`${url['productpage-v1']}/login`, { method: 'POST', body: 'username=jason', headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
    expect({ status: login.status, body: login.body }).to.deep.equal(DENIED);
  });

  it('+ details-, reviews- and ratings-viewer: their principals cannot match a plaintext caller, so these services still deny', async () => {
    await apply('bookinfo-policy-allow-nothing.yaml', 'productpage-viewer.yaml', 'details-viewer.yaml', 'reviews-viewer.yaml', 'ratings-viewer.yaml');
    const page = await get(`${url['productpage-v1']}/productpage`);
    expect(page.status).to.equal(200);
    expect(page.body).to.contain('Sorry, product details are currently unavailable for this book.');
    expect(page.body).to.contain('Sorry, product reviews are currently unavailable for this book.');
    for (const [w, path] of [['details-v1', '/details/0'], ['reviews-v2', '/reviews/0'], ['ratings-v1', '/ratings/0']] as const) {
      const r = await get(`${url[w]}${path}`);
      expect({ status: r.status, body: r.body }, w).to.deep.equal(DENIED);
    }
  });

  it('without the allow-nothing policy, the viewers alone still scope each service (ALLOW policies apply)', async () => {
    await apply('productpage-viewer.yaml');
    expect((await get(`${url['productpage-v1']}/productpage`)).body).to.not.contain('Error fetching product details!');
    expect((await get(`${url['details-v1']}/details/0`)).status).to.equal(200);
    await apply('details-viewer.yaml');
    expect((await get(`${url['details-v1']}/details/0`)).status).to.equal(403);
    expect((await get(`${url['productpage-v1']}/productpage`)).body).to.contain('Error fetching product details!');
  });
});
