// mesh.fetch is the platform's fetch for code written against fetch: the global Response (also in
// TypeScript), url and redirected, TypeError failures with the WeftError as cause, AbortError aborts,
// and with fetchErrors: 'status' Envoy's answers instead. mesh.request keeps undici's shape.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import ts from 'typescript';
import { isWeftError, isWeftErrorCode, RESPONSE_FLAGS_HEADER, WeftError, type Mesh } from '@weft/sdk';
import { startWeftd, type WeftdHandle } from '../support/weftd.js';
import { clientMesh, echoHandler, servingMesh, rejectionOf, startOutsideServer, type Echo } from './sdk-fetch-fixtures.js';
import { applyYaml, NS, startWorkload, waitFor, type Workload } from './sdk-fixtures.js';

const ECHO = `echo.${NS}.svc.cluster.local`;

/** Code written for fetch: takes the platform's types. If mesh.fetch did not return them, this file would not compile. */
const statusOf = (res: Response): number => res.status;
const asPlatformFetch = (f: typeof fetch): typeof fetch => f;

/** An app's code written for fetch, type-checked against the built SDK with the given libs; returns the errors. */
function typeErrorsOfFetchCode(lib: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'weft-types-'));
  try {
    const file = join(dir, 'app.ts');
    writeFileSync(
      file,
      `import { createMesh } from '@weft/sdk';
const handle = (res: Response): number => res.status;
const useFetch = (f: typeof fetch): Promise<Response> => f(new URL('http://ratings/'), { method: 'GET', redirect: 'follow' });
export async function app(): Promise<number> {
  const mesh = await createMesh({ service: 'app' });
  await useFetch(mesh.fetch);
  const res: Response = await mesh.fetch('http://ratings/ratings/0', { headers: new Headers({ a: '1' }) });
  return handle(res) + handle(await mesh.fetch(new Request('http://ratings/')));
}
`,
    );
    const require = createRequire(import.meta.url);
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib,
      types: ['node'],
      typeRoots: [join(require.resolve('@types/node/package.json'), '..', '..')],
      paths: { '@weft/sdk': [require.resolve('@weft/sdk').replace(/\.js$/, '.d.ts')] },
    });
    return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The compiler runs synchronously for seconds. With live sessions in this process, weftd's 1 s keepalive
// would take them for dead meanwhile, so this check runs where no mesh is open.
describe('mesh.fetch types', () => {
  // With Node's globals only, this file's own statusOf/asPlatformFetch lines are the check (the build).
  it('type-checks as a drop-in for typeof fetch in an app compiled with lib.dom', function () {
    this.timeout(60000);
    expect(typeErrorsOfFetchCode(['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'])).to.deep.equal([]);
  });
});

describe('mesh.fetch has the shape of fetch', function () {
  this.timeout(30000);
  let weftd: WeftdHandle;
  let echo: Workload;
  let slow: Workload;
  let client: Mesh;

  before(async () => {
    weftd = await startWeftd();
    const mesh = await servingMesh(weftd.grpcAddress, { service: 'echo' });
    echo = { mesh, server: await mesh.serve(echoHandler('echo-1'), { port: 0, host: '127.0.0.1' }), name: 'echo-1' };
    slow = await startWorkload(weftd.grpcAddress, 'slow', 'slow-1', {}, 2000);
    client = await clientMesh(weftd.grpcAddress, { subscribe: ['echo', 'slow'] });
    await waitFor('echo and slow in the client view', () => client.status().hosts[ECHO] === 1 && client.status().hosts[`slow.${NS}.svc.cluster.local`] === 1);
  });

  after(async () => {
    await client?.close();
    await echo?.mesh.close();
    await slow?.mesh.close();
    await weftd?.stop();
  });

  it("returns the platform's Response, typed as fetch's, with url and redirected", async () => {
    const meshFetch = asPlatformFetch(client.fetch);
    const res = await meshFetch('http://Echo:8080/items?x=1#top');
    expect(res).to.be.instanceOf(Response);
    expect(statusOf(res)).to.equal(200);
    expect(res.statusText).to.equal('OK');
    expect(res.ok).to.equal(true);
    expect(res.url).to.equal('http://echo:8080/items?x=1');
    expect(res.redirected).to.equal(false);
    expect(res.headers).to.be.instanceOf(Headers);
    expect(((await res.json()) as Echo).url).to.equal('/items?x=1');
  });

  it("takes a Request, and the platform's FormData, URLSearchParams and Blob bodies", async () => {
    const fromRequest = await client.fetch(new Request('http://echo/r', { method: 'PUT', body: 'from a Request', headers: { 'content-type': 'text/x-note' } }));
    expect(await fromRequest.json()).to.deep.include({ method: 'PUT', body: 'from a Request', contentType: 'text/x-note', url: '/r' });

    const form = new FormData();
    form.append('field', 'value');
    const multipart = (await (await client.fetch('http://echo/form', { method: 'POST', body: form })).json()) as Echo;
    expect(multipart.contentType).to.match(/^multipart\/form-data; boundary=/);
    expect(multipart.body).to.contain('name="field"').and.contain('value');

    const params = (await (await client.fetch('http://echo/p', { method: 'POST', body: new URLSearchParams({ a: '1', b: 'x y' }) })).json()) as Echo;
    expect(params).to.include({ body: 'a=1&b=x+y', contentType: 'application/x-www-form-urlencoded;charset=UTF-8' });

    const blob = (await (await client.fetch('http://echo/b', { method: 'POST', body: new Blob(['bytes'], { type: 'application/x-thing' }) })).json()) as Echo;
    expect(blob).to.include({ body: 'bytes', contentType: 'application/x-thing' });
  });

  it("rejects network failures with TypeError('fetch failed'), the WeftError as cause; mesh.request throws the WeftError", async () => {
    const none = await rejectionOf(client.fetch('http://nobody/'));
    expect(none).to.be.instanceOf(TypeError);
    expect((none as TypeError).message).to.equal('fetch failed');
    const cause = (none as TypeError).cause as WeftError;
    expect(isWeftErrorCode(cause, 'NO_HEALTHY_UPSTREAM')).to.equal(true);
    expect(cause).to.include({ status: 503, flag: 'UH' });
    expect(cause.message).to.equal(`no healthy upstream for nobody.${NS}.svc.cluster.local (route default to nobody.${NS}.svc.cluster.local; 1 attempt, no endpoint picked)`);

    const closed = await startOutsideServer('closed');
    await closed.close();
    const refused = await rejectionOf(client.fetch(`http://127.0.0.1:${closed.port}/`));
    expect(refused).to.be.instanceOf(TypeError);
    expect(((refused as TypeError).cause as WeftError)).to.include({ code: 'UPSTREAM_CONNECT_FAILURE', flag: 'UF' });

    const thrown = await rejectionOf(client.request('http://nobody/'));
    expect(isWeftErrorCode(thrown, 'NO_HEALTHY_UPSTREAM')).to.equal(true);
    expect(thrown).to.not.be.instanceOf(TypeError);
  });

  it('rejects bad arguments with a TypeError, as fetch does', async () => {
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      ['scheme', () => client.fetch('ftp://echo/'), /scheme "ftp:"/],
      ['not a URL', () => client.fetch('echo/x'), /not an absolute http URL/],
      ['GET with a body', () => client.fetch('http://echo/', { body: 'x' }), /GET request cannot have a body/],
      ['header value', () => client.fetch('http://echo/', { headers: { 'x-bad': 'a\nb' } }), /header/i],
      ['redirect mode', () => client.fetch('http://echo/', { redirect: 'sometimes' as never }), /init\.redirect/],
      ['method', () => client.fetch('http://echo/', { method: 'CONNECT' }), /CONNECT/],
    ];
    for (const [what, call, message] of cases) {
      const e = await rejectionOf(call());
      expect(e, what).to.be.instanceOf(TypeError);
      const because = `${what}: ${String((e as Error).cause)}`;
      expect((e as Error).message, because).to.match(message);
      expect(isWeftErrorCode((e as TypeError).cause, 'INVALID_ARGUMENT'), because).to.equal(true);
    }
    // mesh.request keeps throwing the WeftError itself.
    expect(isWeftErrorCode(await rejectionOf(client.request('ftp://echo/')), 'INVALID_ARGUMENT')).to.equal(true);
  });

  it("rejects an aborted request with the signal's reason (AbortError, TimeoutError) as fetch does", async () => {
    const controller = new AbortController();
    const pending = client.fetch('http://slow/', { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const aborted = await rejectionOf(pending);
    expect(aborted).to.be.instanceOf(DOMException);
    expect((aborted as DOMException).name).to.equal('AbortError');

    const timedOut = await rejectionOf(client.fetch('http://slow/', { signal: AbortSignal.timeout(50) }));
    expect((timedOut as DOMException).name).to.equal('TimeoutError');

    const before = await rejectionOf(client.fetch('http://echo/', { signal: AbortSignal.abort() }));
    expect((before as DOMException).name).to.equal('AbortError');
  });

  it("with fetchErrors: 'status' answers as Envoy does: status, Envoy's body, the flag in x-weft-response-flags", async () => {
    const envoyish = await clientMesh(weftd.grpcAddress, { fetchErrors: 'status' });
    const closed = await startOutsideServer('closed');
    await closed.close();
    try {
      const uh = await envoyish.fetch('http://nobody/x');
      expect(uh).to.be.instanceOf(Response);
      expect(uh.status).to.equal(503);
      expect(uh.headers.get(RESPONSE_FLAGS_HEADER)).to.equal('UH');
      expect(uh.url).to.equal('http://nobody/x');
      expect(await uh.text()).to.equal('no healthy upstream');

      const uf = await envoyish.fetch(`http://127.0.0.1:${closed.port}/`);
      expect(uf.status).to.equal(503);
      expect(uf.headers.get(RESPONSE_FLAGS_HEADER)).to.equal('UF');
      expect(await uf.text()).to.equal('upstream connect error or disconnect/reset before headers. reset reason: connection failure');

      const revision = await applyYaml(weftd.adminUrl, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: routed, namespace: ${NS} }
spec:
  hosts: [routed]
  http:
  - match: [{ uri: { prefix: /only } }]
    route: [{ destination: { host: echo } }]
`);
      await waitFor('the VirtualService in the client', () => envoyish.status().configVersion === String(revision));
      const nr = await envoyish.fetch('http://routed/elsewhere');
      expect(nr.status).to.equal(404);
      expect(nr.headers.get(RESPONSE_FLAGS_HEADER)).to.equal('NR');
      expect(await nr.text()).to.equal('');
      expect((await envoyish.fetch('http://routed/only')).status).to.equal(200);

      // Not an upstream's answer: bad arguments and aborts still reject as fetch does.
      expect(await rejectionOf(envoyish.fetch('ftp://echo/'))).to.be.instanceOf(TypeError);
      expect(((await rejectionOf(envoyish.fetch('http://routed/only', { signal: AbortSignal.abort() }))) as DOMException).name).to.equal('AbortError');
      // mesh.request is not fetch: it throws the WeftError.
      expect(isWeftError(await rejectionOf(envoyish.request('http://nobody/')))).to.equal(true);
    } finally {
      await envoyish.close();
    }
  });
});
