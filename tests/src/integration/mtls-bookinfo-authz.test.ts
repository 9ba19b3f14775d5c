// Istio's HTTP authorization task on Bookinfo (https://istio.io/latest/docs/tasks/security/authorization/authz-http/),
// step by step, with mTLS: every Bookinfo workload enrolled with its own join token (service account
// bookinfo-<service>, as Istio's Bookinfo), so the principal-based viewers now let productpage and reviews
// through, as in Istio. The same files as authz-bookinfo.test.ts (the plaintext run) applied with weftctl.
import { expect } from 'chai';
import { startDetails, startProductPage, startRatings, startReviews, waitForConfig, waitForInstances, weftctlApply, type RunningWorkload } from '@weft/bookinfo';
import { adminFetch, startWeftd, type WeftdHandle } from '../support/weftd.js';
import { bookinfoToken } from '../support/bookinfo.js';

const DENIED = { status: 403, body: 'RBAC: access denied' };
const BOOKINFO = ['productpage', 'details', 'reviews', 'ratings'];
const DETAILS_UNAVAILABLE = 'Sorry, product details are currently unavailable for this book.';
const REVIEWS_UNAVAILABLE = 'Sorry, product reviews are currently unavailable for this book.';
const RATINGS_UNAVAILABLE = 'Ratings service is currently unavailable';

async function get(url: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text() };
}

describe('Bookinfo HTTP authorization task with mTLS (every workload has a token)', function () {
  this.timeout(60_000);
  let weftd: WeftdHandle;
  let workloads: RunningWorkload[] = [];
  let url: Record<string, string>;

  before(async () => {
    weftd = await startWeftd();
    const controlPlane = weftd.grpcAddress;
    const tok = (svc: string) => bookinfoToken(weftd, svc);
    workloads = await Promise.all([
      startRatings({ controlPlane, token: await tok('ratings') }),
      startDetails({ controlPlane, token: await tok('details') }),
      ...(['v1', 'v2', 'v3'] as const).map(async (version) => startReviews({ controlPlane, version, token: await tok('reviews'), env: { HOSTNAME: `reviews-${version}-mtls`, CLUSTER_NAME: undefined } })),
      startProductPage({ controlPlane, token: await tok('productpage') }),
    ]);
    await waitForInstances(weftd, Object.fromEntries(workloads.map((w) => [w.workloadName, 1])), { timeoutMs: 15_000 });
    url = Object.fromEntries(workloads.map((w) => [w.workloadName, w.url]));
  });

  after(async () => {
    await Promise.all(workloads.map((w) => w.close()));
    await weftd?.stop();
  });

  async function apply(...files: string[]): Promise<void> {
    for (const file of files) await weftctlApply(weftd, [file]);
    const { items } = (await (await adminFetch(`${weftd.adminUrl}/v1/resources/authorizationpolicies`)).json()) as { items: { metadata: { resourceVersion: string } }[] };
    await waitForConfig(weftd, Math.max(...items.map((i) => Number(i.metadata.resourceVersion))), BOOKINFO, { timeoutMs: 10_000 });
  }

  /** Pages until one from reviews v2 or v3 (which call ratings), bounded. */
  async function pageWithRatings(): Promise<string> {
    for (let i = 0; i < 30; i++) {
      const page = await get(`${url['productpage-v1']}/productpage`);
      expect(page.status).to.equal(200);
      if (page.body.includes('of 5 stars') || page.body.includes(RATINGS_UNAVAILABLE)) return page.body;
    }
    throw new Error('no page from reviews v2 or v3 in 30 tries');
  }

  it('runs the task in order: each viewer opens exactly its service to its named caller', async () => {
    // Step 1: allow-nothing.
    await apply('bookinfo-policy-allow-nothing.yaml');
    expect(await get(`${url['productpage-v1']}/productpage`)).to.deep.equal(DENIED);

    // Step 2: productpage-viewer: the page, but details and reviews deny productpage.
    await apply('productpage-viewer.yaml');
    let page = (await get(`${url['productpage-v1']}/productpage`)).body;
    expect(page).to.contain(DETAILS_UNAVAILABLE).and.contain(REVIEWS_UNAVAILABLE);

    // Step 3: details-viewer allows cluster.local/ns/default/sa/bookinfo-productpage, over mTLS.
    await apply('details-viewer.yaml');
    page = (await get(`${url['productpage-v1']}/productpage`)).body;
    expect(page).to.not.contain(DETAILS_UNAVAILABLE);
    expect(page).to.contain(REVIEWS_UNAVAILABLE);
    // A plaintext caller (this test) has no principal: details still denies it.
    expect(await get(`${url['details-v1']}/details/0`)).to.deep.equal(DENIED);

    // Step 4: reviews-viewer: reviews answer productpage, but ratings denies reviews.
    await apply('reviews-viewer.yaml');
    page = await pageWithRatings();
    expect(page).to.not.contain(REVIEWS_UNAVAILABLE);
    expect(page).to.contain(RATINGS_UNAVAILABLE);

    // Step 5: ratings-viewer allows bookinfo-reviews: the whole page, with stars.
    await apply('ratings-viewer.yaml');
    page = await pageWithRatings();
    expect(page).to.contain('of 5 stars').and.not.contain(RATINGS_UNAVAILABLE).and.not.contain(DETAILS_UNAVAILABLE);
    expect(await get(`${url['ratings-v1']}/ratings/0`)).to.deep.equal(DENIED);
  });
});
