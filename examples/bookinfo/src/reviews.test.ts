import { expect } from 'chai';
import { FORWARDED_HEADERS } from './headers.js';
import { createReviewsHandler, ratingsTimeoutMs, type ReviewsVersion } from './reviews.js';
import { fakeUpstream, fetchVia, listen, type Listening } from './test-support.js';
import type { Env } from './upstream.js';

describe('reviews handler', () => {
  const started: Listening[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close()));
  });

  async function ratingsReturning(status: number, body: unknown) {
    const ratings = await fakeUpstream(() => ({ status, body }));
    started.push(ratings);
    return ratings;
  }

  async function reviews(version: ReviewsVersion, ratingsUrl: string | undefined, env: Env = { HOSTNAME: `reviews-${version}-test` }) {
    const fetchFn = fetchVia(ratingsUrl ? { 'http://ratings:9080': ratingsUrl } : {});
    const svc = await listen(createReviewsHandler({ version, fetch: fetchFn, env }));
    started.push(svc);
    return svc;
  }

  it('v1 answers two reviews without ratings and does not call ratings', async () => {
    const ratings = await ratingsReturning(200, { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });
    const svc = await reviews('v1', ratings.url);
    const res = await fetch(`${svc.url}/reviews/0`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/json');
    const body = (await res.json()) as Record<string, unknown> & { reviews: Array<Record<string, unknown>> };
    expect(Object.keys(body)).to.deep.equal(['id', 'podname', 'clustername', 'reviews']);
    expect(body).to.include({ id: '0', podname: 'reviews-v1-test', clustername: 'null' });
    expect(body.reviews.map((r) => Object.keys(r))).to.deep.equal([['reviewer', 'text'], ['reviewer', 'text']]);
    expect(body.reviews.map((r) => r.reviewer)).to.deep.equal(['Reviewer1', 'Reviewer2']);
    expect(ratings.seen).to.have.length(0);
  });

  for (const [version, color] of [['v2', 'black'], ['v3', 'red']] as const) {
    it(`${version} adds ${color} stars from ratings`, async () => {
      const ratings = await ratingsReturning(200, { id: 3, ratings: { Reviewer1: 5, Reviewer2: 4 } });
      const svc = await reviews(version, ratings.url, { HOSTNAME: 'pod-1', CLUSTER_NAME: 'east' });
      const body = (await (await fetch(`${svc.url}/reviews/3`)).json()) as { id: string; clustername: string; reviews: Array<{ rating: unknown }> };
      expect(body.id).to.equal('3');
      expect(body.clustername).to.equal('east');
      expect(body.reviews.map((r) => r.rating)).to.deep.equal([
        { stars: 5, color },
        { stars: 4, color },
      ]);
      expect(ratings.seen.map((r) => r.url)).to.deep.equal(['/ratings/3']);
    });
  }

  it('reports the ratings error when ratings fails, is unreachable or lacks a reviewer', async () => {
    const failing = await ratingsReturning(503, { error: 'Service unavailable' });
    const partial = await ratingsReturning(200, { id: 0, ratings: { Reviewer1: 2 } });
    const error = { error: 'Ratings service is currently unavailable' };
    for (const [ratingsUrl, expected] of [
      [failing.url, [error, error]],
      [undefined, [error, error]],
      [partial.url, [{ stars: 2, color: 'black' }, error]],
    ] as const) {
      const svc = await reviews('v2', ratingsUrl);
      const res = await fetch(`${svc.url}/reviews/0`);
      expect(res.status).to.equal(200);
      const body = (await res.json()) as { reviews: Array<{ rating: unknown }> };
      expect(body.reviews.map((r) => r.rating)).to.deep.equal(expected);
    }
  });

  it('logs a failed ratings call as the original prints it, with the mesh response flags', async () => {
    const lines: string[] = [];
    const flagged = await listen((_req, res) => {
      res.writeHead(503, { 'x-weft-response-flags': 'UH' });
      res.end('no healthy upstream');
    });
    started.push(flagged);
    const fetchFn = fetchVia({ 'http://ratings:9080': flagged.url });
    const svc = await listen(createReviewsHandler({ version: 'v2', fetch: fetchFn, env: { HOSTNAME: 'r' }, log: (l) => lines.push(l) }));
    started.push(svc);
    await (await fetch(`${svc.url}/reviews/0`)).arrayBuffer();
    const unreachable = await listen(createReviewsHandler({ version: 'v3', fetch: fetchVia({}), env: { HOSTNAME: 'r' }, log: (l) => lines.push(l) }));
    started.push(unreachable);
    await (await fetch(`${unreachable.url}/reviews/0`)).arrayBuffer();
    expect(lines).to.deep.equal([
      'Error: unable to contact http://ratings:9080/ratings got status of 503 (response flags UH)',
      'Error: unable to contact http://ratings:9080/ratings got exception TypeError: no upstream for http://ratings:9080',
    ]);
  });

  it('forwards the tracing and user headers of the original list to ratings', async () => {
    const ratings = await ratingsReturning(200, { id: 0, ratings: { Reviewer1: 1, Reviewer2: 1 } });
    const svc = await reviews('v3', ratings.url);
    const sent: Record<string, string> = {};
    for (const name of FORWARDED_HEADERS) sent[name] = `value-of-${name}`;
    sent['x-not-forwarded'] = 'nope';
    await fetch(`${svc.url}/reviews/0`, { headers: sent });
    const seen = ratings.seen[0]!.headers;
    for (const name of FORWARDED_HEADERS) expect(seen[name], name).to.equal(`value-of-${name}`);
    expect(seen['x-not-forwarded']).to.equal(undefined);
  });

  it('honours RATINGS_HOSTNAME, RATINGS_SERVICE_PORT and SERVICES_DOMAIN', async () => {
    const ratings = await ratingsReturning(200, { id: 0, ratings: { Reviewer1: 3, Reviewer2: 3 } });
    const env = { HOSTNAME: 'p', RATINGS_HOSTNAME: 'stars', RATINGS_SERVICE_PORT: '8080', SERVICES_DOMAIN: 'bookinfo.svc.cluster.local' };
    const svc = await listen(
      createReviewsHandler({ version: 'v2', env, fetch: fetchVia({ 'http://stars.bookinfo.svc.cluster.local:8080': ratings.url }) }),
    );
    started.push(svc);
    const body = (await (await fetch(`${svc.url}/reviews/0`)).json()) as { reviews: Array<{ rating: unknown }> };
    expect(body.reviews[0]!.rating).to.deep.equal({ stars: 3, color: 'black' });
  });

  it('uses a podname default naming the version when HOSTNAME is unset', async () => {
    const svc = await reviews('v2', undefined, {});
    const body = (await (await fetch(`${svc.url}/reviews/0`)).json()) as { podname: string };
    expect(body.podname).to.equal(`reviews-v2-${process.pid}`);
  });

  it('keeps the original timeouts to ratings: 10 s for black stars, 2.5 s otherwise', () => {
    expect(ratingsTimeoutMs('black')).to.equal(10_000);
    expect(ratingsTimeoutMs('red')).to.equal(2_500);
  });

  it('has /health and 404s for a non-integer product id', async () => {
    const svc = await reviews('v1', undefined);
    expect(await (await fetch(`${svc.url}/health`)).json()).to.deep.equal({ status: 'Reviews is healthy' });
    expect((await fetch(`${svc.url}/reviews/abc`)).status).to.equal(404);
  });
});
