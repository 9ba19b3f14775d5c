// Istio's failure-recovery tasks on Bookinfo, with the files of examples/bookinfo/networking applied by
// weftctl to a real weftd and every Bookinfo service in this process on its own mesh session: the
// fault-injection task (7 s delay and HTTP 500 for jason), the request-timeouts task, the seed's
// mirror of reviews v1 to v2, the circuit-breaking task's limits on reviews, and the resilience rule
// set. Each gives the page Istio's docs describe, because Bookinfo keeps the original's own client
// timeouts (productpage: 3 s per reviews call, tried twice; reviews v2: 10 s to ratings).
import { expect } from 'chai';
import {
  driveProductPage,
  logIn,
  PRODUCT_REVIEWS_UNAVAILABLE,
  RATINGS_UNAVAILABLE,
  servedVersion,
} from '@weft/bookinfo';
import { startWeftd, type WeftdHandle } from '../support/weftd.js';
import { applyNetworkingFiles, startBookinfo, type InProcessBookinfo } from '../support/bookinfo.js';

interface Page {
  status: number;
  html: string;
  ms: number;
}

const BLACK_STAR = /star-filled text-black-500/g;

describe('Bookinfo failure-recovery tasks with the networking files', function () {
  this.timeout(60_000);
  let weftd: WeftdHandle;
  let bookinfo: InProcessBookinfo | undefined;
  let productpage: string;
  let jason: string;

  before(async () => {
    weftd = await startWeftd();
    bookinfo = await startBookinfo(weftd, 'tasks');
    productpage = bookinfo.url['productpage-v1']!;
    jason = await logIn(productpage, 'jason');
  });

  after(async () => {
    await bookinfo?.close();
    await weftd?.stop();
  });

  const apply = (...files: string[]) => applyNetworkingFiles(weftd, ...files);

  async function page(cookie?: string): Promise<Page> {
    const started = performance.now();
    const res = await fetch(`${productpage}/productpage`, { headers: cookie ? { cookie } : {}, signal: AbortSignal.timeout(20_000) });
    const html = await res.text();
    return { status: res.status, html, ms: performance.now() - started };
  }

  const hostsAt = (workloadName: string) => bookinfo!.hosts[workloadName]!;

  it('ratings-test-delay: jason waits about 6 s (productpage: 3 s, twice) and gets "Sorry, product reviews are currently unavailable"', async () => {
    await apply('destination-rule-all.yaml', 'virtual-service-all-v1.yaml', 'virtual-service-reviews-test-v2.yaml', 'virtual-service-ratings-test-delay.yaml');
    const anonymous = await page();
    expect([anonymous.status, servedVersion(anonymous.html)]).to.deep.equal([200, 'v1']);
    expect(anonymous.ms).to.be.below(3_000);

    const asJason = await page(jason);
    expect(asJason.status).to.equal(200);
    expect(asJason.html).to.contain('Error fetching product reviews!').and.contain(PRODUCT_REVIEWS_UNAVAILABLE);
    expect(servedVersion(asJason.html)).to.equal(undefined);
    // Two attempts of productpage's 3 s timeout, each giving up before the 7 s delay (and reviews v2's
    // own 10 s ratings timeout) would let reviews answer.
    expect(asJason.ms).to.be.within(5_800, 7_000);
  });

  it('ratings-test-abort: jason gets reviews v2 at once with "Ratings service is currently unavailable", and ratings sees none of it', async () => {
    await apply('destination-rule-all.yaml', 'virtual-service-all-v1.yaml', 'virtual-service-reviews-test-v2.yaml', 'virtual-service-ratings-test-abort.yaml');
    const ratingsBefore = hostsAt('ratings-v1').length;
    const asJason = await page(jason);
    expect([asJason.status, servedVersion(asJason.html)]).to.deep.equal([200, 'v2']);
    expect(asJason.html.split(RATINGS_UNAVAILABLE)).to.have.length(3); // one per review
    expect(asJason.html).to.not.match(BLACK_STAR);
    expect(asJason.ms).to.be.below(2_000);
    // The abort is the caller's (reviews'): the request never left reviews v2.
    expect(hostsAt('ratings-v1').length).to.equal(ratingsBefore);

    const anonymous = await page();
    expect([anonymous.status, servedVersion(anonymous.html)]).to.deep.equal([200, 'v1']);
    expect(anonymous.html).to.not.contain('unavailable');
  });

  it('request-timeouts: a 2 s ratings delay makes the page take 2 s; a 0.5 s reviews timeout then gives "unavailable" after about 1 s', async () => {
    await apply('destination-rule-all.yaml', 'virtual-service-all-v1.yaml', 'virtual-service-reviews-v2.yaml', 'virtual-service-ratings-delay-2s.yaml');
    const slow = await page();
    expect([slow.status, servedVersion(slow.html)]).to.deep.equal([200, 'v2']);
    expect(slow.html.match(BLACK_STAR)).to.have.length(9);
    expect(slow.ms).to.be.within(1_950, 2_900);

    await apply('virtual-service-reviews-v2-timeout.yaml');
    const timedOut = await page();
    expect(timedOut.status).to.equal(200);
    expect(timedOut.html).to.contain('Error fetching product reviews!').and.contain(PRODUCT_REVIEWS_UNAVAILABLE);
    // productpage calls reviews twice, each cut at 0.5 s by the route's timeout (504 UT).
    expect(timedOut.ms).to.be.within(950, 1_900);
  });

  it('mirroring: every request to reviews v1 is copied to v2 (Host reviews-shadow:9080) while the page shows v1 only', async () => {
    await apply('destination-rule-all.yaml', 'virtual-service-all-v1.yaml', 'virtual-service-reviews-v1-mirror-v2.yaml');
    const v2Before = hostsAt('reviews-v2').length;
    const v3Before = hostsAt('reviews-v3').length;
    const pages = 40;
    const result = await driveProductPage(`${productpage}/productpage`, pages, { concurrency: 4 });
    expect([...result.failures]).to.deep.equal([]);
    expect([...result.byVersion]).to.deep.equal([['v1', pages]]);
    // Copies are fire-and-forget: wait (bounded) until they have all arrived, then check none more came.
    const deadline = Date.now() + 5_000;
    while (hostsAt('reviews-v2').length - v2Before < pages && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    const copies = hostsAt('reviews-v2').slice(v2Before);
    expect(copies).to.have.length(pages);
    expect(new Set(copies)).to.deep.equal(new Set(['reviews-shadow:9080']));
    expect(hostsAt('reviews-v3').length).to.equal(v3Before);
  });

  it('the resilience rule set applies and the page is whole, from every reviews version', async () => {
    await apply('bookinfo-resilience.yaml');
    const result = await driveProductPage(`${productpage}/productpage`, 60, { concurrency: 4 });
    expect([...result.failures]).to.deep.equal([]);
    expect(result.byVersion.get('error') ?? 0).to.equal(0);
    expect([...result.byVersion.keys()].sort()).to.deep.equal(['v1', 'v2', 'v3']);
    const one = await page();
    expect(one.html).to.not.contain('unavailable');
  });

  // Last: its limits stay on reviews until destination-rule-all.yaml is applied again (after).
  it('circuit breaker on reviews: beyond one call in flight and one waiting, calls fail at once and the API answers "unavailable"', async () => {
    await apply(
      'destination-rule-all.yaml',
      'virtual-service-all-v1.yaml',
      'virtual-service-reviews-test-v2.yaml',
      'virtual-service-ratings-delay-2s.yaml',
      'destination-rule-reviews-circuit-breaker.yaml',
    );
    const v2Before = hostsAt('reviews-v2').length;
    const concurrent = 6;
    const answers = await Promise.all(
      Array.from({ length: concurrent }, async () => {
        const started = performance.now();
        const res = await fetch(`${productpage}/api/v1/products/0/reviews`, { headers: { cookie: jason }, signal: AbortSignal.timeout(20_000) });
        return { status: res.status, body: (await res.json()) as { error?: string; podname?: string }, ms: performance.now() - started };
      }),
    );
    const overflowed = answers.filter((a) => a.status === 503 && a.body.error === PRODUCT_REVIEWS_UNAVAILABLE && a.ms < 1_500);
    const served = answers.filter((a) => a.status === 200 && a.body.podname?.startsWith('reviews-v2'));
    // One call holds the connection (ratings takes 2 s), one waits; the others overflow (503 UO) on
    // both of productpage's attempts, without waiting. What waited or was retried later may still succeed.
    expect(overflowed.length, JSON.stringify(answers)).to.be.at.least(concurrent - 2);
    expect(served.length, JSON.stringify(answers)).to.be.at.least(1);
    expect(overflowed.length + served.length, JSON.stringify(answers)).to.equal(concurrent);
    // Only what the limits let through reached reviews v2, one request at a time.
    expect(hostsAt('reviews-v2').length - v2Before).to.be.at.most(3);
    await apply('destination-rule-all.yaml', 'virtual-service-all-v1.yaml');
  });
});
