// VirtualService routing features end to end: a real weftd, reviews workloads that echo what reaches
// them (path, Host, headers, method, body), a ratings workload, client meshes with their own labels and
// namespaces, Istio YAML applied through the admin API. Each feature is checked where Envoy's effect is
// seen: at the upstream (headers, rewrites), at the caller (response headers, redirects, direct
// responses), and by counting what reaches the workloads (a redirect or a direct response sends nothing).
import { expect } from 'chai';
import type http from 'node:http';
import { createMesh, type Mesh, type MeshOptions } from '@weft/sdk';
import { startBehavingWorkload, type BehavingWorkload, type Behaviour } from '../support/behaving-workload.js';
import { adminFetch, startWeftd, type WeftdHandle } from '../support/weftd.js';
import { applyYaml, NS, startWorkload, waitFor, type Workload } from './sdk-fixtures.js';

const REVIEWS = `reviews.${NS}.svc.cluster.local`;
const RATINGS = `ratings.${NS}.svc.cluster.local`;

interface Echo {
  name: string;
  method: string;
  url: string;
  host: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Answers what it received, with headers of its own for the response operations to change. */
const echo = (name: string): Behaviour => (req, res, body) => {
  res.setHeader('content-type', 'application/json');
  res.setHeader('x-upstream', name);
  res.setHeader('x-remove-me', 'yes');
  res.end(JSON.stringify({ name, method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '', headers: req.headers, body } satisfies Echo));
};

const subsets = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: ${NS} }
spec:
  host: reviews
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
  - { name: v3, labels: { version: v3 } }
`;

const reviewsRoutes = (http: string) => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: ${NS} }
spec:
  hosts: [reviews]
  http:
${http}
`;

describe('VirtualService routing features with weftd: headers, rewrite, redirect, directResponse, match fields', function () {
  this.timeout(120000);
  let weftd: WeftdHandle;
  const versions: Record<string, BehavingWorkload> = {};
  let ratings: Workload;
  let page: Mesh;
  let details: Mesh;
  let elsewhere: Mesh;
  const meshes: Mesh[] = [];

  async function client(service: string, extra: Partial<MeshOptions> = {}): Promise<Mesh> {
    const m = await createMesh({ service, namespace: NS, controlPlane: weftd.grpcAddress, caFile: weftd.caFile, subscribe: [REVIEWS, RATINGS], ...extra });
    meshes.push(m);
    return m;
  }

  /** Applies `yaml` and waits until every client holds it. */
  async function apply(yaml: string): Promise<void> {
    const revision = await applyYaml(weftd.adminUrl, yaml);
    for (const m of meshes) await waitFor(`config ${revision}`, () => Number(m.status().configVersion) >= revision);
  }

  async function get(mesh: Mesh, url: string, init?: RequestInit): Promise<{ res: Response; echo: Echo }> {
    const res = await mesh.fetch(url, init);
    expect(res.status, await res.clone().text()).to.equal(200);
    return { res, echo: (await res.json()) as Echo };
  }

  const hits = (): Record<string, number> => Object.fromEntries(Object.entries(versions).map(([v, w]) => [v, w.hits]));

  before(async () => {
    weftd = await startWeftd();
    for (const v of ['v1', 'v2', 'v3']) versions[v] = await startBehavingWorkload(weftd.grpcAddress, 'reviews', { version: v }, echo(v), { namespace: NS });
    ratings = await startWorkload(weftd.grpcAddress, 'ratings', 'ratings-1');
    page = await client('productpage', { labels: { version: 'v1' } });
    details = await client('details');
    elsewhere = await client('productpage', { namespace: 'other' });
    for (const m of meshes) {
      await waitFor('reviews and ratings endpoints', () => m.status().hosts[REVIEWS] === 3 && m.status().hosts[RATINGS] === 1, 10000);
    }
    await apply(subsets);
  });

  after(async () => {
    for (const m of meshes) await m.close();
    for (const w of Object.values(versions)) await w.stop();
    await ratings?.mesh.close();
    await weftd?.stop();
  });

  it('headers: set, add and remove on the request the upstream gets and on the response the caller gets, route-level then destination-level', async () => {
    await apply(reviewsRoutes(`
  - headers:
      request: { set: { x-set: route, x-pct: "100%%" }, add: { x-add: added }, remove: [x-drop] }
      response: { set: { x-upstream: replaced }, add: { x-extra: one }, remove: [x-remove-me] }
    route:
    - destination: { host: reviews, subset: v1 }
      headers:
        request: { set: { x-set: destination } }
        response: { add: { x-dest: v1 } }
`));
    const { res, echo: seen } = await get(page, 'http://reviews/r', { headers: { 'x-set': 'caller', 'x-add': 'mine', 'x-drop': 'secret' } });
    expect(seen.name).to.equal('v1');
    // One destination: its set runs after the route's and wins; add keeps the caller's value.
    expect([seen.headers['x-set'], seen.headers['x-add'], seen.headers['x-drop'], seen.headers['x-pct']]).to.deep.equal(['destination', 'mine, added', undefined, '100%']);
    expect([res.headers.get('x-upstream'), res.headers.get('x-extra'), res.headers.get('x-remove-me'), res.headers.get('x-dest')]).to.deep.equal(['replaced', 'one', null, 'v1']);
    // mesh.request sees the same response headers.
    const raw = await page.request('http://reviews/r');
    await raw.body.text();
    expect([raw.headers['x-upstream'], raw.headers['x-remove-me']]).to.deep.equal(['replaced', undefined]);
  });

  it("weighted destinations: a destination's headers only on requests routed to it, the route's set applied after (it wins)", async () => {
    await apply(reviewsRoutes(`
  - headers:
      request: { set: { x-who: route } }
    route:
    - destination: { host: reviews, subset: v1 }
      weight: 50
      headers: { request: { set: { x-who: v1 }, add: { x-v1: "yes" } }, response: { set: { x-picked: v1 } } }
    - destination: { host: reviews, subset: v2 }
      weight: 50
`));
    const seen = new Set<string>();
    for (let i = 0; i < 60 && seen.size < 2; i++) {
      const { res, echo: e } = await get(page, 'http://reviews/w');
      seen.add(e.name);
      expect(e.headers['x-who']).to.equal('route');
      expect(e.headers['x-v1']).to.equal(e.name === 'v1' ? 'yes' : undefined);
      expect(res.headers.get('x-picked')).to.equal(e.name === 'v1' ? 'v1' : null);
    }
    expect([...seen].sort()).to.deep.equal(['v1', 'v2']);
  });

  it('rewrite: uri replaces the matched prefix (or the whole path of an exact match), uriRegexRewrite every match; authority and a host header change the Host; the query stays', async () => {
    await apply(reviewsRoutes(`
  - match: [{ uri: { prefix: /api/ } }]
    rewrite: { uri: /v1/, authority: "reviews-internal:7000" }
    route: [{ destination: { host: reviews, subset: v1 } }]
  - match: [{ uri: { exact: /ratings } }]
    rewrite: { uri: /v1/bookRatings }
    headers: { request: { set: { host: alt.example } } }
    route: [{ destination: { host: reviews, subset: v1 } }]
  - match: [{ uri: { prefix: /svc/ } }]
    rewrite: { uriRegexRewrite: { match: '^/svc/([^/]+)(/.*)$', rewrite: '/custom\\2/\\1' } }
    route: [{ destination: { host: reviews, subset: v1 } }]
  - route: [{ destination: { host: reviews, subset: v1 } }]
`));
    const api = await get(page, 'http://reviews:9080/api/reviews/1?x=1');
    expect([api.echo.url, api.echo.host]).to.deep.equal(['/v1/reviews/1?x=1', 'reviews-internal:7000']);
    expect(api.res.url, 'the caller keeps the URL it asked for').to.equal('http://reviews:9080/api/reviews/1?x=1');
    const exact = await get(page, 'http://reviews/ratings?y=2');
    expect([exact.echo.url, exact.echo.host]).to.deep.equal(['/v1/bookRatings?y=2', 'alt.example']);
    const regex = await get(page, 'http://reviews/svc/update/v1/api?z=/svc/a/b');
    expect(regex.echo.url).to.equal('/custom/v1/api/update?z=/svc/a/b');
    const untouched = await get(page, 'http://reviews:9080/other?q');
    expect([untouched.echo.url, untouched.echo.host]).to.deep.equal(['/other?q', 'reviews:9080']);
  });

  it('redirect: answered by the caller with Envoy\'s Location (uri, authority, derivePort, port, scheme, redirectCode); mesh.fetch follows it through the mesh; nothing is sent for the redirect itself', async () => {
    await apply(reviewsRoutes(`
  - match: [{ uri: { prefix: /old } }]
    redirect: { uri: /new }
    headers: { response: { set: { x-redirected-by: weft } } }
  - match: [{ uri: { prefix: /moved } }]
    redirect: { authority: ratings, uri: /ratings/0, derivePort: FROM_REQUEST_PORT, redirectCode: 302 }
  - match: [{ uri: { exact: /post } }]
    redirect: { uri: /posted, redirectCode: 307 }
  - match: [{ uri: { exact: /secure } }]
    redirect: { scheme: https, port: 8443 }
  - route: [{ destination: { host: reviews, subset: v1 } }]
`));
    const before = hits();
    const manual = await page.fetch('http://reviews/old/x?q=1', { redirect: 'manual' });
    expect([manual.status, manual.headers.get('location'), manual.headers.get('x-redirected-by'), await manual.text()]).to.deep.equal([301, 'http://reviews/new?q=1', 'weft', '']);
    const viaRequest = await page.request('http://reviews/old');
    await viaRequest.body.text();
    expect([viaRequest.statusCode, viaRequest.headers.location]).to.deep.equal([301, 'http://reviews/new']);
    const secure = await page.fetch('http://reviews:9080/secure?a=b', { redirect: 'manual' });
    expect([secure.status, secure.headers.get('location')]).to.deep.equal([301, 'https://reviews:8443/secure?a=b']);
    expect(hits(), 'a redirect sends nothing').to.deep.equal(before);

    const followed = await get(page, 'http://reviews/old/x?q=1');
    expect([followed.echo.name, followed.echo.url, followed.res.redirected, followed.res.url]).to.deep.equal(['v1', '/new?q=1', true, 'http://reviews/new?q=1']);
    const posted = await get(page, 'http://reviews/post', { method: 'POST', body: 'hello' });
    expect([posted.echo.method, posted.echo.url, posted.echo.body], '307 keeps method and body').to.deep.equal(['POST', '/posted', 'hello']);
    expect(hits().v1).to.equal(before.v1! + 2);

    const moved = await page.fetch('http://reviews:9080/moved', { redirect: 'manual' });
    expect([moved.status, moved.headers.get('location')]).to.deep.equal([302, 'http://ratings:9080/ratings/0']);
    const atRatings = await page.fetch('http://reviews:9080/moved');
    expect([atRatings.status, ((await atRatings.json()) as { name: string }).name, atRatings.url]).to.deep.equal([200, 'ratings-1', 'http://ratings:9080/ratings/0']);
  });

  it('directResponse: status and body (string or bytes) answered by the caller as Envoy does, with the route\'s response headers; nothing is sent, nothing retried', async () => {
    const tea = Buffer.from(JSON.stringify({ tea: true })).toString('base64');
    await apply(reviewsRoutes(`
  - match: [{ uri: { prefix: /maintenance } }]
    directResponse: { status: 503, body: { string: "down for maintenance" } }
    headers: { response: { set: { retry-after: "120" } } }
  - match: [{ uri: { exact: /teapot } }]
    directResponse: { status: 418, body: { bytes: "${tea}" } }
    headers: { response: { set: { content-type: application/json } } }
  - match: [{ uri: { exact: /empty } }]
    directResponse: { status: 204 }
  - route: [{ destination: { host: reviews, subset: v1 } }]
`));
    const before = hits();
    const down = await page.fetch('http://reviews/maintenance/now');
    expect([down.status, await down.text(), down.headers.get('content-type'), down.headers.get('retry-after')]).to.deep.equal([503, 'down for maintenance', 'text/plain', '120']);
    const teapot = await page.fetch('http://reviews/teapot');
    expect([teapot.status, await teapot.json(), teapot.headers.get('content-type')]).to.deep.equal([418, { tea: true }, 'application/json']);
    const empty = await page.fetch('http://reviews/empty');
    expect([empty.status, await empty.text()]).to.deep.equal([204, '']);
    const raw = await page.request('http://reviews/maintenance');
    expect([raw.statusCode, await raw.body.text()]).to.deep.equal([503, 'down for maintenance']);
    expect(hits(), 'a direct response sends nothing').to.deep.equal(before);
    expect(page.stats().resilience.retries, 'a 503 made by the caller is not an upstream failure to retry').to.equal(0);
  });

  it('queryParams: exact, regex (whole value) and presence, on the raw query\'s first value', async () => {
    await apply(reviewsRoutes(`
  - match: [{ queryParams: { user: { exact: jason } } }]
    route: [{ destination: { host: reviews, subset: v2 } }]
  - match: [{ queryParams: { id: { regex: '\\d+' } } }, { queryParams: { debug: {} } }]
    route: [{ destination: { host: reviews, subset: v3 } }]
  - route: [{ destination: { host: reviews, subset: v1 } }]
`));
    const name = async (url: string) => (await get(page, url)).echo.name;
    expect(await name('http://reviews/q?user=jason')).to.equal('v2');
    expect(await name('http://reviews/q?user=jason&user=bob')).to.equal('v2');
    expect(await name('http://reviews/q?user=bob&user=jason')).to.equal('v1');
    expect(await name('http://reviews/q?id=42')).to.equal('v3');
    expect(await name('http://reviews/q?id=a42')).to.equal('v1');
    expect(await name('http://reviews/q?debug')).to.equal('v3');
    expect(await name('http://reviews/q')).to.equal('v1');
  });

  it('withoutHeaders and ignoreUriCase: a route for everyone but jason (a missing header too), and a prefix that ignores case', async () => {
    await apply(reviewsRoutes(`
  - match: [{ uri: { prefix: /Admin }, ignoreUriCase: true }]
    route: [{ destination: { host: reviews, subset: v3 } }]
  - match: [{ withoutHeaders: { end-user: { exact: jason } } }]
    route: [{ destination: { host: reviews, subset: v1 } }]
  - route: [{ destination: { host: reviews, subset: v2 } }]
`));
    const name = async (url: string, headers: Record<string, string> = {}) => (await get(page, url, { headers })).echo.name;
    expect(await name('http://reviews/r')).to.equal('v1');
    expect(await name('http://reviews/r', { 'end-user': 'bob' })).to.equal('v1');
    expect(await name('http://reviews/r', { 'end-user': 'jason' })).to.equal('v2');
    expect(await name('http://reviews/ADMIN/users')).to.equal('v3');
    expect(await name('http://reviews/admin')).to.equal('v3');
  });

  it("sourceLabels and sourceNamespace: the calling workload's own labels and namespace choose its route", async () => {
    await apply(reviewsRoutes(`
  - match: [{ sourceLabels: { app: productpage }, sourceNamespace: ${NS} }]
    route: [{ destination: { host: reviews, subset: v2 } }]
  - match: [{ sourceNamespace: other }]
    route: [{ destination: { host: reviews, subset: v3 } }]
  - route: [{ destination: { host: reviews, subset: v1 } }]
`));
    expect((await get(page, 'http://reviews/s')).echo.name, `productpage in ${NS}`).to.equal('v2');
    expect((await get(details, 'http://reviews/s')).echo.name, `details in ${NS}`).to.equal('v1');
    expect((await get(elsewhere, `http://reviews.${NS}/s`)).echo.name, 'productpage in other').to.equal('v3');
  });

  it('weftd refuses what Istio refuses, naming the field: route with redirect, a redirect code Envoy does not send, an Envoy %VARIABLE%', async () => {
    /** weftd's issues for a batch it refuses, one `path: message` a line. */
    const refused = async (http: string): Promise<string> => {
      const res = await adminFetch(`${weftd.adminUrl}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: reviewsRoutes(http) });
      const text = await res.text();
      expect(res.status, text).to.equal(400);
      return (JSON.parse(text) as { issues: { path: string; message: string }[] }).issues.map((i) => `${i.path}: ${i.message}`).join('\n');
    };
    expect(await refused(`
  - redirect: { uri: /a }
    route: [{ destination: { host: reviews } }]
`)).to.contain('spec.http[0].route: cannot be combined with redirect');
    expect(await refused(`
  - redirect: { uri: /a, redirectCode: 399 }
`)).to.contain('spec.http[0].redirect.redirectCode: 399 is not a redirect code Envoy sends');
    expect(await refused(`
  - headers: { request: { set: { x-ip: "%DOWNSTREAM_REMOTE_ADDRESS%" } } }
    route: [{ destination: { host: reviews } }]
`)).to.contain('spec.http[0].headers.request.set.x-ip');
  });
});
