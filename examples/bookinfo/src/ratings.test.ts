import { expect } from 'chai';
import { createRatingsHandler } from './ratings.js';
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
