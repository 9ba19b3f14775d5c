import { expect } from 'chai';
import { bookDetails } from './details.js';
import { createProductPageHandler, PRODUCTS } from './productpage.js';
import { fakeUpstream, fetchVia, listen, type Listening, type Recorded } from './test-support.js';

type Respond = (rec: Recorded) => { status: number; body: unknown };

const REVIEWS_V2 = {
  id: '0',
  podname: 'reviews-v2-1',
  clustername: 'null',
  reviews: [
    { reviewer: 'Reviewer1', text: 'Great & "funny"', rating: { stars: 5, color: 'black' } },
    { reviewer: 'Reviewer2', text: 'Good', rating: { stars: 4, color: 'black' } },
  ],
};

describe('productpage handler', () => {
  const started: Listening[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close()));
  });

  async function productpage(respond: { details?: Respond; reviews?: Respond; ratings?: Respond } = {}) {
    const details = await fakeUpstream(respond.details ?? ((r) => ({ status: 200, body: bookDetails(Number(r.url.split('/').pop())) })));
    const reviews = await fakeUpstream(respond.reviews ?? (() => ({ status: 200, body: REVIEWS_V2 })));
    const ratings = await fakeUpstream(respond.ratings ?? (() => ({ status: 200, body: { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } } })));
    started.push(details, reviews, ratings);
    const fetchFn = fetchVia({ 'http://details:9080': details.url, 'http://reviews:9080': reviews.url, 'http://ratings:9080': ratings.url });
    const page = await listen(createProductPageHandler({ fetch: fetchFn, env: {}, sessionSecret: 'test' }));
    started.push(page);
    return { url: page.url, details, reviews, ratings };
  }

  async function login(url: string, user: string): Promise<string> {
    const res = await fetch(`${url}/login`, {
      method: 'POST',
      body: new URLSearchParams({ username: user, passwd: 'x' }),
      headers: { referer: `${url}/productpage` },
      redirect: 'manual',
    });
    expect(res.status).to.equal(302);
    expect(res.headers.get('location')).to.equal(`${url}/productpage`);
    return res.headers.get('set-cookie')!.split(';')[0]!;
  }

  it('renders the book page with details, stars and who served the reviews', async () => {
    const { url } = await productpage();
    const res = await fetch(`${url}/productpage`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
    const html = await res.text();
    expect(html).to.contain('<title>Simple Bookstore App</title>');
    expect(html).to.contain('The Comedy of Errors');
    expect(html).to.contain('1234567890').and.contain('PublisherA').and.contain('paperback');
    expect(html.match(/star-filled text-black-500/g)).to.have.length(9);
    expect(html.match(/star-empty text-black-500/g)).to.have.length(1);
    expect(html).to.contain('Reviews served by: <span class="podname">reviews-v2-1</span>');
    expect(html).not.to.contain('on cluster');
    expect(html).to.contain('Great &amp; &quot;funny&quot;');
    expect(html).not.to.match(/<(?:link|script)[^>]+(?:src|href)="https?:/);
  });

  it('shows the cluster when reviews names one, and no stars for v1', async () => {
    const v1 = { id: '0', podname: 'reviews-v1-a', clustername: 'east', reviews: [{ reviewer: 'Reviewer1', text: 't' }] };
    const { url } = await productpage({ reviews: () => ({ status: 200, body: v1 }) });
    const html = await (await fetch(`${url}/productpage`)).text();
    expect(html).to.contain('on cluster <span class="clustername">east</span>');
    expect(html).not.to.contain('star-filled');
  });

  it('shows the ratings error of a review in red', async () => {
    const body = { ...REVIEWS_V2, reviews: [{ reviewer: 'Reviewer1', text: 't', rating: { error: 'Ratings service is currently unavailable' } }] };
    const { url } = await productpage({ reviews: () => ({ status: 200, body }) });
    expect(await (await fetch(`${url}/productpage`)).text()).to.contain('<p class="rating-error">Ratings service is currently unavailable</p>');
  });

  it('shows failure banners and tries reviews twice before giving up', async () => {
    const { url, reviews } = await productpage({
      details: () => ({ status: 503, body: 'no' }),
      reviews: () => ({ status: 503, body: 'no' }),
    });
    const res = await fetch(`${url}/productpage`);
    expect(res.status).to.equal(200);
    const html = await res.text();
    expect(html).to.contain('Error fetching product details!').and.contain('Sorry, product details are currently unavailable for this book.');
    expect(html).to.contain('Error fetching product reviews!').and.contain('Sorry, product reviews are currently unavailable for this book.');
    expect(reviews.seen).to.have.length(2);
  });

  it('serves the products API and proxies details, reviews and ratings', async () => {
    const { url } = await productpage();
    const products = await fetch(`${url}/api/v1/products`);
    expect(products.headers.get('content-type')).to.equal('application/json');
    expect(await products.json()).to.deep.equal(PRODUCTS);
    expect(Object.keys((PRODUCTS[0] as unknown) as object)).to.deep.equal(['id', 'title', 'descriptionHtml']);
    expect(await (await fetch(`${url}/api/v1/products/0`)).json()).to.deep.equal(bookDetails(0));
    expect(await (await fetch(`${url}/api/v1/products/0/reviews`)).json()).to.deep.equal(REVIEWS_V2);
    expect(await (await fetch(`${url}/api/v1/products/0/ratings`)).json()).to.deep.equal({ id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });
  });

  it('answers the exact error JSON with the upstream status, or 500 when unreachable', async () => {
    const { url } = await productpage({ details: () => ({ status: 400, body: { error: 'please provide numeric product id' } }), ratings: () => ({ status: 503, body: {} }) });
    const details = await fetch(`${url}/api/v1/products/abc`);
    expect(details.status).to.equal(400);
    expect(await details.json()).to.deep.equal({ error: 'Sorry, product details are currently unavailable for this book.' });
    const ratings = await fetch(`${url}/api/v1/products/0/ratings`);
    expect(ratings.status).to.equal(503);
    expect(await ratings.json()).to.deep.equal({ error: 'Sorry, product ratings are currently unavailable for this book.' });

    const unreachable = await listen(createProductPageHandler({ fetch: fetchVia({}), env: {} }));
    started.push(unreachable);
    const reviews = await fetch(`${unreachable.url}/api/v1/products/0/reviews`);
    expect(reviews.status).to.equal(500);
    expect(await reviews.json()).to.deep.equal({ error: 'Sorry, product reviews are currently unavailable for this book.' });
  });

  it('sends end-user from the session only, and forwards the tracing headers', async () => {
    const { url, reviews, details } = await productpage();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await fetch(`${url}/productpage`, { headers: { 'end-user': 'jason', 'x-request-id': 'req-1', traceparent } });
    expect(reviews.seen[0]!.headers['end-user']).to.equal(undefined);
    expect(reviews.seen[0]!.headers['x-request-id']).to.equal('req-1');
    expect(details.seen[0]!.headers['traceparent']).to.equal(traceparent);

    const cookie = await login(url, 'jason');
    await fetch(`${url}/productpage`, { headers: { cookie, 'x-b3-traceid': '463ac35c9f6413ad48485a3953bb6124', 'x-b3-spanid': 'a2fb4a1d1a96d312', 'x-b3-sampled': '1' } });
    const seen = reviews.seen[1]!.headers;
    expect(seen['end-user']).to.equal('jason');
    expect(seen['cookie']).to.equal(cookie);
    expect(seen['x-b3-traceid']).to.equal('463ac35c9f6413ad48485a3953bb6124');
    expect(seen['x-b3-sampled']).to.equal('1');
  });

  it('login shows the user on the page; logout clears the cookie and redirects back', async () => {
    const { url } = await productpage();
    const cookie = await login(url, 'jason');
    expect(await (await fetch(`${url}/productpage`, { headers: { cookie } })).text()).to.contain('Signed in as <b>jason</b>');
    const out = await fetch(`${url}/logout`, { headers: { cookie, referer: `${url}/productpage` }, redirect: 'manual' });
    expect(out.status).to.equal(302);
    expect(out.headers.get('location')).to.equal(`${url}/productpage`);
    expect(out.headers.get('set-cookie')).to.match(/^session=;.*Max-Age=0/);
    const noReferer = await fetch(`${url}/login`, { method: 'POST', body: new URLSearchParams({ username: 'x' }), redirect: 'manual' });
    expect(noReferer.headers.get('location')).to.equal('/productpage');
  });

  it('has /, /index.html and /health', async () => {
    const { url } = await productpage();
    for (const path of ['/', '/index.html']) {
      const html = await (await fetch(`${url}${path}`)).text();
      expect(html, path).to.contain('Simple Bookstore App').and.contain('http://details:9080').and.contain('http://ratings:9080');
    }
    expect(await (await fetch(`${url}/health`)).text()).to.equal('Product page is healthy');
    expect((await fetch(`${url}/nowhere`)).status).to.equal(404);
  });
});
