import { expect } from 'chai';
import { createDetailsHandler } from './details.js';
import { listen, type Listening } from './test-support.js';

describe('details handler', () => {
  let svc: Listening;
  beforeEach(async () => {
    svc = await listen(createDetailsHandler());
  });
  afterEach(() => svc.close());

  it('GET /details/{id} answers the book in the original key order', async () => {
    const res = await fetch(`${svc.url}/details/0`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/json');
    expect(await res.text()).to.equal(
      '{"id":0,"author":"William Shakespeare","year":1595,"type":"paperback","pages":200,"publisher":"PublisherA",' +
        '"language":"English","ISBN-10":"1234567890","ISBN-13":"123-1234567890"}',
    );
    expect(((await (await fetch(`${svc.url}/details/42`)).json()) as { id: number }).id).to.equal(42);
  });

  it('answers 400 for a non-numeric id', async () => {
    for (const path of ['/details/abc', '/details/1.5', '/details']) {
      const res = await fetch(`${svc.url}${path}`);
      expect(res.status, path).to.equal(400);
      expect(await res.json()).to.deep.equal({ error: 'please provide numeric product id' });
    }
  });

  it('has /health and 404s elsewhere', async () => {
    expect(await (await fetch(`${svc.url}/health`)).text()).to.equal('{"status":"Details is healthy"}');
    expect((await fetch(`${svc.url}/detailsx/1`)).status).to.equal(404);
  });
});
