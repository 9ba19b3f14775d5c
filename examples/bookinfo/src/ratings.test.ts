import { expect } from 'chai';
import { createRatingsHandler, faultyPercentFrom } from './ratings.js';
import { listen, type Listening } from './test-support.js';

describe('ratings handler', () => {
  let svc: Listening;
  beforeEach(async () => {
    svc = await listen(createRatingsHandler());
  });
  afterEach(() => svc.close());

  it('GET /ratings/{id} answers the default ratings in the original key order', async () => {
    const res = await fetch(`${svc.url}/ratings/0`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/json');
    expect(await res.text()).to.equal('{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}');
  });

  it('reads the id as parseInt of the last segment', async () => {
    expect(await (await fetch(`${svc.url}/ratings/12abc`)).json()).to.deep.equal({ id: 12, ratings: { Reviewer1: 5, Reviewer2: 4 } });
  });

  it('answers 400 for a non-numeric id, GET or POST', async () => {
    const get = await fetch(`${svc.url}/ratings/abc`);
    expect(get.status).to.equal(400);
    expect(await get.json()).to.deep.equal({ error: 'please provide numeric product ID' });
    const post = await fetch(`${svc.url}/ratings/x`, { method: 'POST', body: '{}' });
    expect(post.status).to.equal(400);
  });

  it('POST stores ratings in memory for that id only', async () => {
    const post = await fetch(`${svc.url}/ratings/7`, { method: 'POST', body: JSON.stringify({ Reviewer1: 3, Reviewer2: 1 }) });
    expect(post.status).to.equal(200);
    expect(await post.text()).to.equal('{"id":7,"ratings":{"Reviewer1":3,"Reviewer2":1}}');
    expect(await (await fetch(`${svc.url}/ratings/7`)).json()).to.deep.equal({ id: 7, ratings: { Reviewer1: 3, Reviewer2: 1 } });
    expect(await (await fetch(`${svc.url}/ratings/8`)).json()).to.deep.equal({ id: 8, ratings: { Reviewer1: 5, Reviewer2: 4 } });
  });

  it('POST with invalid JSON is a 400', async () => {
    const res = await fetch(`${svc.url}/ratings/1`, { method: 'POST', body: '{not json' });
    expect(res.status).to.equal(400);
    expect(await res.json()).to.deep.equal({ error: 'please provide valid ratings JSON' });
  });

  it('has /health and 404s elsewhere', async () => {
    const health = await fetch(`${svc.url}/health`);
    expect(health.status).to.equal(200);
    expect(await health.text()).to.equal('{"status":"Ratings is healthy"}');
    expect((await fetch(`${svc.url}/nope`)).status).to.equal(404);
  });
});

describe('ratings faulty test hook (RATINGS_FAULTY_PERCENT, as Istio v-faulty)', () => {
  it('answers 503 {"error":"Service unavailable"} when the draw falls under the percentage, the ratings otherwise', async () => {
    const draws = [0.1, 0.7, 0.49, 0.5];
    const svc = await listen(createRatingsHandler({ faultyPercent: 50, random: () => draws.shift()! }));
    try {
      const answers = [];
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${svc.url}/ratings/0`);
        answers.push([res.status, await res.text()]);
      }
      const unavailable = [503, '{"error":"Service unavailable"}'];
      const ok = [200, '{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}'];
      expect(answers).to.deep.equal([unavailable, ok, unavailable, ok]);
      // /health is not part of the fault.
      expect((await fetch(`${svc.url}/health`)).status).to.equal(200);
    } finally {
      await svc.close();
    }
  });

  it('reads the percentage from the environment, 0 when unset, and refuses what is not 0-100', () => {
    expect(faultyPercentFrom({})).to.equal(0);
    expect(faultyPercentFrom({ RATINGS_FAULTY_PERCENT: '50' })).to.equal(50);
    expect(faultyPercentFrom({ RATINGS_FAULTY_PERCENT: '12.5' })).to.equal(12.5);
    for (const bad of ['101', '-1', 'half', '50%']) {
      expect(() => faultyPercentFrom({ RATINGS_FAULTY_PERCENT: bad })).to.throw(`RATINGS_FAULTY_PERCENT must be a percentage 0-100 (50 is Istio's v-faulty), got "${bad}"`);
    }
  });
});
