// Calls that leave the mesh, as Istio's outboundTrafficPolicy has them: with ALLOW_ANY (the default) a
// host that is not a mesh service goes to DNS, with TLS when the URL says https; REGISTRY_ONLY refuses
// it with 502. Names with dots are judged by weftd's view and the config: `catalog.shop` is a mesh
// service, `example.test` is not, and a service whose endpoints all died stays one (503 UH, no DNS).
// `*.test` names resolve to 127.0.0.1 here (resolveTestNamesLocally), through the real dns.lookup path.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { isWeftErrorCode, RESPONSE_FLAGS_HEADER, type Mesh, type WeftError } from '@weft/sdk';
import { startWeftd, type WeftdHandle } from '../support/weftd.js';
import { clientEnv, SDK_URL, startScript } from '../support/sdk-script.js';
import {
  clientMesh,
  servingMesh,
  echoHandler,
  rejectionOf,
  RESOLVE_TEST_NAMES_SOURCE,
  resolveTestNamesLocally,
  startOutsideServer,
  TEST_CA_PEM,
  type Echo,
  type OutsideServer,
} from './sdk-fetch-fixtures.js';
import { applyYaml, NS, waitFor } from './sdk-fixtures.js';

describe('calls that leave the mesh (outboundTrafficPolicy)', function () {
  this.timeout(30000);
  let weftd: WeftdHandle;
  let meshes: Mesh[];
  let client: Mesh;
  let plain: OutsideServer;
  let tls: OutsideServer;
  let restoreDns: () => void;

  const echoOf = async (res: Response): Promise<Echo> => (await res.json()) as Echo;

  before(async () => {
    restoreDns = resolveTestNamesLocally();
    weftd = await startWeftd();
    meshes = [];
    const catalog = await servingMesh(weftd.grpcAddress, { service: 'catalog' });
    meshes.push(catalog);
    await catalog.serve(echoHandler('catalog'), { port: 0, host: '127.0.0.1' });
    plain = await startOutsideServer('outside');
    tls = await startOutsideServer('outside-tls', true);
    client = await clientMesh(weftd.grpcAddress, { subscribe: ['catalog'] });
    await waitFor('catalog in the client view', () => client.status().hosts[`catalog.${NS}.svc.cluster.local`] === 1);
  });

  after(async () => {
    await client?.close();
    for (const m of meshes ?? []) await m.close();
    await plain?.close();
    await tls?.close();
    await weftd?.stop();
    restoreDns?.();
  });

  it('sends a name that is no mesh service to DNS, through fetch and request; a name weftd knows stays in the mesh', async () => {
    // `example.test` reads as service `example` in namespace `test`: weftd's empty answer settles it.
    const res = await client.fetch(`http://example.test:${plain.port}/a?b=1`);
    expect(res.status).to.equal(200);
    expect(res.url).to.equal(`http://example.test:${plain.port}/a?b=1`);
    expect(await echoOf(res)).to.include({ name: 'outside', url: '/a?b=1', host: `example.test:${plain.port}` });
    expect(client.status().hosts).to.have.property('example.test.svc.cluster.local', 0);

    const longer = await client.request(`http://api.example.test:${plain.port}/v1`);
    expect(((await longer.body.json()) as Echo).name).to.equal('outside');

    // The same shape of name for a mesh service is routed to it, not looked up.
    expect((await echoOf(await client.fetch('http://catalog.shop/items'))).name).to.equal('catalog');
    expect((await echoOf(await client.fetch(`http://catalog.${NS}.svc.cluster.local/items`))).name).to.equal('catalog');
  });

  it('keeps a mesh service whose endpoints all died in the mesh: NO_HEALTHY_UPSTREAM, not DNS', async () => {
    const gone = await servingMesh(weftd.grpcAddress, { service: 'gone' });
    const server = await gone.serve(echoHandler('gone'), { port: 0, host: '127.0.0.1' });
    const caller = await clientMesh(weftd.grpcAddress, { subscribe: [`gone.${NS}`] });
    const view = () => caller.status().hosts[`gone.${NS}.svc.cluster.local`];
    try {
      await waitFor('gone in the caller view', () => view() === 1);
      expect((await echoOf(await caller.fetch(`http://gone.${NS}/`))).name).to.equal('gone');
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await waitFor('gone to leave the caller view', () => view() === 0);
      const e = await rejectionOf(caller.fetch(`http://gone.${NS}/`));
      expect(((e as TypeError).cause as WeftError)).to.include({ code: 'NO_HEALTHY_UPSTREAM', status: 503, flag: 'UH' });
    } finally {
      await caller.close();
      await gone.close();
    }
  });

  it('makes a dotted name a mesh host when a VirtualService names it', async () => {
    const revision = await applyYaml(weftd.adminUrl, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: legacy, namespace: ${NS} }
spec:
  hosts: [legacy.example.test]
  http:
  - route: [{ destination: { host: catalog } }]
`);
    await waitFor('the VirtualService in the client', () => client.status().configVersion === String(revision));
    expect((await echoOf(await client.fetch('http://legacy.example.test/x'))).name).to.equal('catalog');
  });

  it("speaks TLS to an https host outside the mesh and checks its certificate as undici does", async () => {
    const e = await rejectionOf(client.fetch(`https://secure.example.test:${tls.port}/`));
    expect(e).to.be.instanceOf(TypeError);
    const cause = (e as TypeError).cause as WeftError;
    expect(cause).to.include({ code: 'UPSTREAM_CONNECT_FAILURE', flag: 'UF' });
    expect((cause.cause as { code: string }).code).to.equal('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    // https to a mesh service is the caller's mistake: the mesh speaks http and adds mTLS itself.
    expect(((await rejectionOf(client.fetch('https://catalog/'))) as Error).message).to.match(/with https:\/\/; call mesh services with http:\/\//);

    // A process that trusts the CA (NODE_EXTRA_CA_CERTS: Node's trust store) gets the answer.
    const dir = mkdtempSync(join(tmpdir(), 'weft-ca-'));
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, TEST_CA_PEM);
    const script = startScript(
      `${RESOLVE_TEST_NAMES_SOURCE}
import { createMesh } from ${JSON.stringify(SDK_URL)};
const mesh = await createMesh({ service: 'script', namespace: ${JSON.stringify(NS)}, shutdownSignals: [] });
const res = await mesh.fetch(process.env.TARGET);
console.log('ANSWER ' + res.status + ' ' + (await res.text()));
await mesh.close();
`,
      { NODE_EXTRA_CA_CERTS: caFile, ...clientEnv(weftd.grpcAddress), TARGET: `https://secure.example.test:${tls.port}/tls` },
    );
    try {
      const [, answer] = (await script.waitFor(/ANSWER (.*)/, 20000)) as unknown as [string, string];
      expect(answer).to.match(/^200 /);
      expect(JSON.parse(answer.slice(4))).to.include({ name: 'outside-tls', url: '/tls', host: `secure.example.test:${tls.port}` });
    } finally {
      await script.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("REGISTRY_ONLY refuses hosts outside the mesh with Istio's 502, lets loopback and mesh services through", async () => {
    const strict = await clientMesh(weftd.grpcAddress, { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } });
    const strictStatus = await clientMesh(weftd.grpcAddress, { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' }, fetchErrors: 'status' });
    try {
      for (const url of [`http://example.test:${plain.port}/`, `https://secure.example.test:${tls.port}/`, 'http://10.255.255.1/']) {
        const e = await rejectionOf(strict.fetch(url));
        expect(e, url).to.be.instanceOf(TypeError);
        expect(((e as TypeError).cause as WeftError), url).to.include({ code: 'EXTERNAL_HOST_BLOCKED', status: 502 });
        expect(((e as TypeError).cause as Error).message, url).to.match(/REGISTRY_ONLY/);
        expect(isWeftErrorCode(await rejectionOf(strict.request(url)), 'EXTERNAL_HOST_BLOCKED'), url).to.equal(true);
      }
      const blackhole = await strictStatus.fetch(`http://example.test:${plain.port}/`);
      expect(blackhole.status).to.equal(502);
      expect(blackhole.headers.get(RESPONSE_FLAGS_HEADER)).to.equal('-');
      expect(await blackhole.text()).to.equal('');

      expect((await echoOf(await strict.fetch('http://catalog/'))).name).to.equal('catalog');
      expect((await echoOf(await strict.fetch(`http://127.0.0.1:${plain.port}/`))).name).to.equal('outside');
    } finally {
      await strict.close();
      await strictStatus.close();
    }
  });
});
