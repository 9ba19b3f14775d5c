// Istio's request-routing and traffic-shifting tasks on Bookinfo: a real weftd, every Bookinfo service
// in this process on its own mesh session (real sockets), the networking files applied with weftctl.
import { readdirSync } from 'node:fs';
import { expect } from 'chai';
import {
  logIn,
  tallyReviewsApi,
  weftctlApply,
  NETWORKING_DIR,
  type ReviewsTally,
} from '@weft/bookinfo';
import { startWeftd, type WeftdHandle } from '../support/weftd.js';
import { applyNetworkingFiles, startBookinfo, type InProcessBookinfo } from '../support/bookinfo.js';

function shares(tally: ReviewsTally): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [version, count] of tally.byVersion) out[version] = count / tally.total;
  return out;
}

describe('Bookinfo routing with the networking files', function () {
  this.timeout(60_000);
  let weftd: WeftdHandle;
  let bookinfo: InProcessBookinfo | undefined;
  let productpage: string;

  before(async () => {
    weftd = await startWeftd();
    bookinfo = await startBookinfo(weftd, 'routing');
    productpage = bookinfo.url['productpage-v1']!;
  });

  after(async () => {
    await bookinfo?.close();
    await weftd?.stop();
  });

  const apply = (...files: string[]) => applyNetworkingFiles(weftd, ...files);

  it('virtual-service-all-v1 sends 100 % of reviews traffic to v1', async () => {
    await apply('destination-rule-all.yaml', 'virtual-service-all-v1.yaml');
    const tally = await tallyReviewsApi(productpage, 300);
    expect(tally.failures).to.equal(0);
    expect([...tally.byVersion]).to.deep.equal([['v1', 300]]);
  });

  it('virtual-service-reviews-test-v2 sends jason to v2 and everyone else to v1', async () => {
    await apply('destination-rule-all.yaml', 'virtual-service-all-v1.yaml', 'virtual-service-reviews-test-v2.yaml');
    const jason = await logIn(productpage, 'jason');
    const asJason = await tallyReviewsApi(productpage, 300, { cookie: jason });
    expect(asJason.failures).to.equal(0);
    expect([...asJason.byVersion]).to.deep.equal([['v2', 300]]);

    const anonymous = await tallyReviewsApi(productpage, 300);
    expect([...anonymous.byVersion]).to.deep.equal([['v1', 300]]);
    const someoneElse = await tallyReviewsApi(productpage, 100, { cookie: await logIn(productpage, 'jasonx') });
    expect([...someoneElse.byVersion]).to.deep.equal([['v1', 100]]);
  });

  // 2000 requests: the weighted pick is random, and ±5 % is 4.5 standard deviations of a fair 50/50 split
  // over 2000 (one false failure in ~150,000 runs) but only 3.2 over 1000 (one in ~700).
  it('virtual-service-reviews-50-v3 splits 50/50 between v1 and v3 (±5 % over 2000 requests)', async () => {
    await apply('destination-rule-all.yaml', 'virtual-service-reviews-50-v3.yaml');
    const tally = await tallyReviewsApi(productpage, 2000);
    expect(tally.failures).to.equal(0);
    expect([...tally.byVersion.keys()].sort()).to.deep.equal(['v1', 'v3']);
    const s = shares(tally);
    expect(s.v1).to.be.within(0.45, 0.55);
    expect(s.v3).to.be.within(0.45, 0.55);
  });

  it('virtual-service-reviews-80-20 splits 80/20 between v1 and v2 (±5 % over 1000 requests)', async () => {
    await apply('destination-rule-all.yaml', 'virtual-service-reviews-80-20.yaml');
    const tally = await tallyReviewsApi(productpage, 1000);
    expect(tally.failures).to.equal(0);
    expect([...tally.byVersion.keys()].sort()).to.deep.equal(['v1', 'v2']);
    const s = shares(tally);
    expect(s.v1).to.be.within(0.75, 0.85);
    expect(s.v2).to.be.within(0.15, 0.25);
  });

  it('virtual-service-reviews-v3 sends 100 % to v3 and the HTML shows red stars', async () => {
    await apply('destination-rule-all.yaml', 'virtual-service-reviews-v3.yaml');
    const tally = await tallyReviewsApi(productpage, 200);
    expect([...tally.byVersion]).to.deep.equal([['v3', 200]]);
    const html = await (await fetch(`${productpage}/productpage`)).text();
    expect(html).to.contain('Reviews served by: <span class="podname">reviews-v3-routing</span>');
    expect(html.match(/star-filled text-red-500/g)).to.have.length(9);
  });

  it('every networking file passes weftctl validation unchanged', async () => {
    // The whole folder: the traffic tasks' files, the authorization task's and the mTLS migration's.
    const files = readdirSync(NETWORKING_DIR).filter((f) => f.endsWith('.yaml')).sort();
    expect(files).to.include.members(['destination-rule-all.yaml', 'virtual-service-reviews-test-v2.yaml', 'peer-authentication-strict.yaml', 'ratings-viewer.yaml']);
    for (const file of files) {
      const lines = await weftctlApply(weftd, [file], ['--dry-run']);
      expect(lines.length, file).to.be.greaterThan(0);
    }
  });
});
