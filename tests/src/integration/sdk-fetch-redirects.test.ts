// mesh.fetch follows redirects as fetch does (redirect: 'follow' by default, 'error', 'manual'; at most
// 20; 301/302 POST→GET, 303→GET, 307/308 keep method and body; a spent stream body fails; credentials
// dropped across origins) and each hop is routed and balanced by the mesh again.
import { expect } from 'chai';
import type http from 'node:http';
import { isWeftErrorCode, type Mesh } from '@weft/sdk';
import { startWeftd, type WeftdHandle } from '../support/weftd.js';
import { clientMesh, echoHandler, servingMesh, rejectionOf, startOutsideServer, type Echo, type OutsideServer } from './sdk-fetch-fixtures.js';
import { applyYaml, NS, waitFor } from './sdk-fixtures.js';

/**
 * front: /to/<status>?location=<url> answers that redirect; /count/<n> redirects n times (to
 * /count/<n-1>) before echoing; /bare answers 302 without Location; anything else echoes.
 */
const frontHandler: http.RequestListener = (req, res) => {
  const url = new URL(req.url ?? '/', 'http://front');
  const [, kind, arg] = url.pathname.split('/');
  if (kind === 'to' || kind === 'bare') {
    req.resume();
    res.statusCode = kind === 'bare' ? 302 : Number(arg);
    if (kind === 'to') res.setHeader('location', url.searchParams.get('location') ?? '/');
    res.end('moved');
    return;
  }
  if (kind === 'count' && Number(arg) > 0) {
    req.resume();
    res.writeHead(302, { location: `/count/${Number(arg) - 1}` }).end();
    return;
  }
  echoHandler('front')(req, res);
};

describe('mesh.fetch follows redirects as fetch does, inside the mesh', function () {
  this.timeout(30000);
  let weftd: WeftdHandle;
  let meshes: Mesh[];
  let client: Mesh;
  let outside: OutsideServer;

  before(async () => {
    weftd = await startWeftd();
    meshes = [];
    const serve = async (service: string, labels: Record<string, string>, handler: http.RequestListener) => {
      const mesh = await servingMesh(weftd.grpcAddress, { service, labels });
      meshes.push(mesh);
      await mesh.serve(handler, { port: 0, host: '127.0.0.1' });
    };
    await serve('front', {}, frontHandler);
    await serve('back', { version: 'v1' }, echoHandler('back-v1'));
    await serve('back', { version: 'v2' }, echoHandler('back-v2'));
    outside = await startOutsideServer('outside');
    client = await clientMesh(weftd.grpcAddress, { subscribe: ['front', 'back'] });
    await waitFor('front and back in the client view', () => client.status().hosts[`back.${NS}.svc.cluster.local`] === 2 && client.status().hosts[`front.${NS}.svc.cluster.local`] === 1);
  });

  after(async () => {
    await client?.close();
    for (const m of meshes ?? []) await m.close();
    await outside?.close();
    await weftd?.stop();
  });

  const echoOf = async (res: Response): Promise<Echo> => (await res.json()) as Echo;
  const to = (status: number, location: string) => `http://front/to/${status}?location=${encodeURIComponent(location)}`;

  it('follows by default; a Location naming a mesh host is routed and balanced again; url and redirected say where it landed', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const res = await client.fetch(to(302, 'http://back/landing'));
      expect(res.status).to.equal(200);
      expect(res.redirected).to.equal(true);
      expect(res.url).to.equal('http://back/landing');
      const echo = await echoOf(res);
      expect(echo).to.include({ url: '/landing', host: 'back' });
      seen.add(echo.name);
    }
    expect([...seen].sort(), 'both back endpoints').to.deep.equal(['back-v1', 'back-v2']);

    // The hop to back follows back's VirtualService like any request.
    const revision = await applyYaml(weftd.adminUrl, `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: back, namespace: ${NS} }
spec:
  host: back
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: back, namespace: ${NS} }
spec:
  hosts: [back]
  http:
  - match: [{ headers: { end-user: { exact: jason } } }]
    route: [{ destination: { host: back, subset: v2 } }]
  - route: [{ destination: { host: back, subset: v1 } }]
`);
    await waitFor('the VirtualService in the client', () => client.status().configVersion === String(revision));
    for (let i = 0; i < 5; i++) {
      expect((await echoOf(await client.fetch(to(307, 'http://back/x'), { headers: { 'end-user': 'jason' } }))).name).to.equal('back-v2');
      expect((await echoOf(await client.fetch(to(307, 'http://back/x')))).name).to.equal('back-v1');
    }
  });

  it('resolves a relative Location against the request URL, and follows one that leaves the mesh', async () => {
    const rel = await client.fetch(to(301, '/landing?x=1'));
    expect(rel.url).to.equal('http://front/landing?x=1');
    expect(await echoOf(rel)).to.include({ name: 'front', url: '/landing?x=1' });
    const out = await client.fetch(to(302, `http://127.0.0.1:${outside.port}/out`));
    expect(out.url).to.equal(`http://127.0.0.1:${outside.port}/out`);
    expect((await echoOf(out)).name).to.equal('outside');
  });

  it('301/302 turn POST into GET without body; 303 turns PUT into GET and keeps HEAD; 307/308 keep method and body', async () => {
    for (const status of [301, 302, 303]) {
      const echo = await echoOf(await client.fetch(to(status, '/echo'), { method: 'POST', body: 'payload', headers: { 'content-type': 'text/x-data' } }));
      expect(echo, String(status)).to.include({ method: 'GET', body: '', contentType: null });
    }
    expect((await echoOf(await client.fetch(to(302, '/echo'), { method: 'PUT', body: 'kept' }))).method).to.equal('PUT');
    expect(await echoOf(await client.fetch(to(303, '/echo'), { method: 'PUT', body: 'dropped' }))).to.include({ method: 'GET', body: '' });
    const head = await client.fetch(to(303, '/echo'), { method: 'HEAD' });
    expect(head.status).to.equal(200);
    expect(head.redirected).to.equal(true);
    for (const status of [307, 308]) {
      const echo = await echoOf(await client.fetch(to(status, '/echo'), { method: 'POST', body: 'payload', headers: { 'content-type': 'text/x-data' } }));
      expect(echo, String(status)).to.include({ method: 'POST', body: 'payload', contentType: 'text/x-data' });
    }
  });

  it('fails like fetch when a redirect needs a streamed body again (all but 303)', async () => {
    const streamed = () =>
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode('streamed'));
          c.close();
        },
      });
    const e = await rejectionOf(client.fetch(to(307, '/echo'), { method: 'POST', body: streamed(), duplex: 'half' } as RequestInit));
    expect(e).to.be.instanceOf(TypeError);
    expect((e as TypeError).message).to.equal('fetch failed');
    expect(isWeftErrorCode((e as TypeError).cause, 'REDIRECT_FAILED')).to.equal(true);
    expect(((e as TypeError).cause as Error).message).to.match(/stream/);
    const seeOther = await client.fetch(to(303, '/echo'), { method: 'POST', body: streamed(), duplex: 'half' } as RequestInit);
    expect(await echoOf(seeOther)).to.include({ method: 'GET', body: '' });
  });

  it('drops authorization and cookie when the origin changes, keeps them on the same origin', async () => {
    const headers = { authorization: 'Bearer secret', cookie: 'session=1' };
    const cross = await echoOf(await client.fetch(to(307, 'http://back/x'), { headers }));
    expect(cross).to.include({ authorization: null, cookie: null, host: 'back' });
    const same = await echoOf(await client.fetch(to(307, '/x'), { headers }));
    expect(same).to.include({ authorization: 'Bearer secret', cookie: 'session=1', host: 'front' });
  });

  it('follows 20 redirects and fails the 21st', async () => {
    const twenty = await client.fetch('http://front/count/20');
    expect(twenty.status).to.equal(200);
    expect(twenty.url).to.equal('http://front/count/0');
    const e = await rejectionOf(client.fetch('http://front/count/21'));
    expect(e).to.be.instanceOf(TypeError);
    expect(isWeftErrorCode((e as TypeError).cause, 'REDIRECT_FAILED')).to.equal(true);
    expect(((e as TypeError).cause as Error).message).to.match(/redirect count exceeded/);
  });

  it("redirect: 'error' rejects, 'manual' returns the redirect itself; a redirect without Location is an answer", async () => {
    const e = await rejectionOf(client.fetch(to(302, '/x'), { redirect: 'error' }));
    expect(e).to.be.instanceOf(TypeError);
    expect(isWeftErrorCode((e as TypeError).cause, 'REDIRECT_FAILED')).to.equal(true);

    const manual = await client.fetch(to(302, '/x'), { redirect: 'manual' });
    expect(manual.status).to.equal(302);
    expect(manual.headers.get('location')).to.equal('/x');
    expect(manual.redirected).to.equal(false);
    expect(manual.url).to.equal(to(302, '/x'));
    expect(await manual.text()).to.equal('moved');

    const bare = await client.fetch('http://front/bare');
    expect(bare.status).to.equal(302);
    expect(bare.redirected).to.equal(false);
    await bare.text();

    // mesh.request has undici's request() shape: it never follows.
    const r = await client.request(to(302, '/x'));
    expect(r.statusCode).to.equal(302);
    await r.body.text();
  });
});
