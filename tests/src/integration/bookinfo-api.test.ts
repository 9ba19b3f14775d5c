// Bookinfo's HTTP APIs on the mesh, checked against Istio's shapes (ISTIO-REFERENCE 1.3): every service
// started in this process with its own mesh session and identity; no routing rules, so reviews is
// balanced over v1-v3 (over mTLS: each workload has its certificate).
import { expect } from 'chai';
import {
  logIn,
  servedVersion,
} from '@weft/bookinfo';
import { adminFetch, startWeftd, type WeftdHandle } from '../support/weftd.js';
import { startBookinfo, type InProcessBookinfo } from '../support/bookinfo.js';

const DETAILS_0 =
  '{"id":0,"author":"William Shakespeare","year":1595,"type":"paperback","pages":200,"publisher":"PublisherA",' +
  '"language":"English","ISBN-10":"1234567890","ISBN-13":"123-1234567890"}';

describe('Bookinfo APIs on the mesh', function () {
  this.timeout(60_000);
  let weftd: WeftdHandle;
  let bookinfo: InProcessBookinfo | undefined;
  const url: Record<string, string> = {};

  before(async () => {
    weftd = await startWeftd();
    bookinfo = await startBookinfo(weftd, 'api');
    Object.assign(url, bookinfo.url);
  });

  after(async () => {
    await bookinfo?.close();
    await weftd?.stop();
  });

  it('registers each workload with its labels and service account, and each holds its certificate for it', async () => {
    for (const w of bookinfo!.workloads) expect(w.identity, w.workloadName).to.equal(`spiffe://cluster.local/ns/default/sa/bookinfo-${w.service}`);
    const res = (await (await adminFetch(`${weftd.adminUrl}/v1/services`)).json()) as {
      services: Array<{ service: string; namespace: string; instances: Array<{ workloadName: string; labels: Record<string, string>; serviceAccount?: string }> }>;
    };
    const reviews = res.services.find((s) => s.service === 'reviews')!;
    expect(reviews.namespace).to.equal('default');
    expect(reviews.instances.map((i) => i.workloadName).sort()).to.deep.equal(['reviews-v1', 'reviews-v2', 'reviews-v3']);
    for (const i of reviews.instances) {
      expect(i.labels).to.include({ app: 'reviews', version: i.workloadName.slice('reviews-'.length) });
      expect(i.serviceAccount).to.equal('bookinfo-reviews');
    }
  });

  it('details and ratings answer the exact JSON, directly and through productpage over the mesh', async () => {
    expect(await (await fetch(`${url['details-v1']}/details/0`)).text()).to.equal(DETAILS_0);
    expect(await (await fetch(`${url['productpage-v1']}/api/v1/products/0`)).text()).to.equal(DETAILS_0);
    const ratings = '{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}';
    expect(await (await fetch(`${url['ratings-v1']}/ratings/0`)).text()).to.equal(ratings);
    expect(await (await fetch(`${url['productpage-v1']}/api/v1/products/0/ratings`)).text()).to.equal(ratings);
    const products = (await (await fetch(`${url['productpage-v1']}/api/v1/products`)).json()) as Array<Record<string, unknown>>;
    expect(products).to.have.length(1);
    expect(Object.keys(products[0]!)).to.deep.equal(['id', 'title', 'descriptionHtml']);
    expect(products[0]).to.include({ id: 0, title: 'The Comedy of Errors' });
  });

  it('reviews v1 has no ratings; v2 black and v3 red stars (5 and 4) from ratings over the mesh', async () => {
    const expected = {
      v1: undefined,
      v2: [{ stars: 5, color: 'black' }, { stars: 4, color: 'black' }],
      v3: [{ stars: 5, color: 'red' }, { stars: 4, color: 'red' }],
    };
    for (const [version, ratings] of Object.entries(expected)) {
      const res = await fetch(`${url[`reviews-${version}`]}/reviews/0`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('application/json');
      const body = (await res.json()) as { reviews: Array<Record<string, unknown>> } & Record<string, unknown>;
      expect(Object.keys(body)).to.deep.equal(['id', 'podname', 'clustername', 'reviews']);
      expect(body).to.include({ id: '0', podname: `reviews-${version}-api`, clustername: 'null' });
      expect(body.reviews.map((r) => r.reviewer)).to.deep.equal(['Reviewer1', 'Reviewer2']);
      expect(body.reviews.map((r) => r.rating), version).to.deep.equal(ratings ? ratings : [undefined, undefined]);
    }
  });

  it('answers 400s with the original error bodies', async () => {
    const details = await fetch(`${url['details-v1']}/details/abc`);
    expect(details.status).to.equal(400);
    expect(await details.json()).to.deep.equal({ error: 'please provide numeric product id' });
    const ratings = await fetch(`${url['ratings-v1']}/ratings/abc`);
    expect(ratings.status).to.equal(400);
    expect(await ratings.json()).to.deep.equal({ error: 'please provide numeric product ID' });
    const viaPage = await fetch(`${url['productpage-v1']}/api/v1/products/abc`);
    expect(viaPage.status).to.equal(400);
    expect(await viaPage.json()).to.deep.equal({ error: 'Sorry, product details are currently unavailable for this book.' });
  });

  it('without rules, productpage pages come from all three reviews versions with their stars', async () => {
    const pages = new Map<string, string>();
    for (let i = 0; i < 150 && pages.size < 3; i++) {
      const res = await fetch(`${url['productpage-v1']}/productpage`);
      expect(res.status).to.equal(200);
      const html = await res.text();
      const version = servedVersion(html);
      expect(version, 'page names the reviews version that served it').to.be.a('string');
      pages.set(version!, html);
    }
    expect([...pages.keys()].sort()).to.deep.equal(['v1', 'v2', 'v3']);
    for (const html of pages.values()) {
      expect(html).to.contain('<title>Simple Bookstore App</title>');
      expect(html).to.contain('Book Details').and.contain('1234567890');
      expect(html).not.to.contain('Error fetching');
    }
    expect(pages.get('v1')).not.to.contain('star-filled');
    expect(pages.get('v1')).to.contain('Reviews served by: <span class="podname">reviews-v1-api</span>');
    expect(pages.get('v2')!.match(/star-filled text-black-500/g)).to.have.length(9);
    expect(pages.get('v2')!.match(/star-empty text-black-500/g)).to.have.length(1);
    expect(pages.get('v3')!.match(/star-filled text-red-500/g)).to.have.length(9);
    expect(pages.get('v3')!.match(/star-empty text-red-500/g)).to.have.length(1);
  });

  it('login sets a session cookie that shows the user; logout clears it', async () => {
    const base = url['productpage-v1']!;
    const cookie = await logIn(base, 'jason');
    expect(await (await fetch(`${base}/productpage`, { headers: { cookie } })).text()).to.contain('Signed in as <b>jason</b>');
    const out = await fetch(`${base}/logout`, { headers: { cookie, referer: `${base}/productpage` }, redirect: 'manual' });
    expect(out.status).to.equal(302);
    expect(out.headers.get('location')).to.equal(`${base}/productpage`);
    const cleared = out.headers.get('set-cookie')!.split(';')[0]!;
    expect(cleared).to.equal('session=');
    expect(await (await fetch(`${base}/productpage`, { headers: { cookie: cleared } })).text()).not.to.contain('Signed in as');
  });

  it('has the health endpoints of the original', async () => {
    expect(await (await fetch(`${url['productpage-v1']}/health`)).text()).to.equal('Product page is healthy');
    expect(await (await fetch(`${url['details-v1']}/health`)).json()).to.deep.equal({ status: 'Details is healthy' });
    expect(await (await fetch(`${url['reviews-v2']}/health`)).json()).to.deep.equal({ status: 'Reviews is healthy' });
    expect(await (await fetch(`${url['ratings-v1']}/health`)).json()).to.deep.equal({ status: 'Ratings is healthy' });
  });
});
