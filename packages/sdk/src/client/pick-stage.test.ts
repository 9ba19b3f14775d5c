// The pick stage's two "nowhere to send it" answers, told apart as Envoy tells them: a route to a subset
// no DestinationRule defines has no cluster (CLUSTER_NOT_FOUND, 503 NC, empty body, at once), a defined
// subset without endpoints has no healthy host (NO_HEALTHY_UPSTREAM, 503 UH). Real route and pick
// stages, real ClusterDirectory and transport, against an http server on 127.0.0.1 port 0.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InstanceMsg } from '@weft/api';
import type { CompiledConfig } from '../config/compiled.js';
import { compileConfig } from '../config/config-compiler.js';
import { resourceMsg } from '../config/test-resources.js';
import { isWeftErrorCode, type WeftError } from '../errors.js';
import { ClusterDirectory } from './clusters.js';
import { fetchEdge } from './fetch-edge.js';
import { RESPONSE_FLAGS_HEADER } from './fetch-response.js';
import { pickStage } from './pick-stage.js';
import { compose } from './pipeline.js';
import { requestEdge } from './request-edge.js';
import { routeStage } from './route-stage.js';
import { TargetParser } from './target.js';
import { Transport } from './transport.js';

const HOST = 'reviews.bookinfo.svc.cluster.local';
const ROUTE_TO_V2 = resourceMsg('VirtualService', 'bookinfo', 'reviews', { hosts: ['reviews'], http: [{ name: 'to-v2', route: [{ destination: { host: 'reviews', subset: 'v2' } }] }] });
const RULE = (...subsets: string[]) =>
  resourceMsg('DestinationRule', 'bookinfo', 'reviews', { host: 'reviews', subsets: subsets.map((name) => ({ name, labels: { version: name } })) });

function instance(id: string, port: number, version: string): InstanceMsg {
  return { instanceId: id, workloadName: `reviews-${version}`, labels: { app: 'reviews', version }, serviceAccount: 'sa', endpoint: { address: '127.0.0.1', port, protocol: 'http', servicePort: 0 } };
}

describe('pick stage: no cluster (NC) and no healthy upstream (UH)', () => {
  let server: http.Server;
  let port: number;
  let hits: number;
  let transport: Transport;
  let clusters: ClusterDirectory;
  let config: CompiledConfig;
  let awaited: string[];

  function edges() {
    const awaitHost = async (h: string) => {
      awaited.push(h);
    };
    const handler = compose([routeStage({ config: () => config }), pickStage({ clusters, awaitHost })], transport.handler);
    const targets = new TargetParser('bookinfo');
    return { request: requestEdge(handler, targets, () => undefined), statusFetch: fetchEdge(handler, targets, () => undefined, 'status') };
  }

  function use(next: CompiledConfig): void {
    config = next;
    clusters.setConfig(next);
  }

  beforeEach(async () => {
    hits = 0;
    server = http.createServer((req, res) => {
      hits++;
      res.end('reviews-v2');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
    transport = new Transport();
    clusters = new ClusterDirectory();
    awaited = [];
  });

  afterEach(async () => {
    await transport.close(1000);
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('answers a route to an undefined subset with CLUSTER_NOT_FOUND (503 NC) at once, before asking weftd for endpoints', async () => {
    use(compileConfig('1', [ROUTE_TO_V2], 'bookinfo'));
    const { request } = edges();
    const e = (await request('http://reviews:9080/x').catch((x: unknown) => x)) as WeftError;
    expect(isWeftErrorCode(e, 'CLUSTER_NOT_FOUND'), String(e)).to.equal(true);
    expect(e).to.include({ status: 503, flag: 'NC' });
    expect(e.message).to.equal(
      `no cluster for ${HOST} subset v2 (route to-v2): no DestinationRule for ${HOST} defines subset "v2"; apply one that does`,
    );
    // The host's view was unknown: the answer came from the config alone.
    expect(awaited).to.deep.equal([]);
    // With endpoints known it is the same answer, and nothing reaches them.
    clusters.setEndpoints(HOST, [instance('a', port, 'v2')]);
    expect(isWeftErrorCode(await request('http://reviews:9080/x').catch((x: unknown) => x), 'CLUSTER_NOT_FOUND')).to.equal(true);
    expect(hits).to.equal(0);
  });

  it("gives mesh.fetch with fetchErrors 'status' Envoy's local reply: 503, empty body, flag NC", async () => {
    use(compileConfig('1', [ROUTE_TO_V2], 'bookinfo'));
    clusters.setEndpoints(HOST, [instance('a', port, 'v2')]);
    const res = await edges().statusFetch('http://reviews:9080/x');
    expect(res.status).to.equal(503);
    expect(res.headers.get(RESPONSE_FLAGS_HEADER)).to.equal('NC');
    expect(await res.text()).to.equal('');
  });

  it('tells a defined subset without endpoints (503 UH, no healthy upstream) from an undefined one', async () => {
    use(compileConfig('1', [ROUTE_TO_V2, RULE('v1', 'v2')], 'bookinfo'));
    clusters.setEndpoints(HOST, [instance('a', port, 'v1')]);
    const e = (await edges().request('http://reviews:9080/x').catch((x: unknown) => x)) as WeftError;
    expect(isWeftErrorCode(e, 'NO_HEALTHY_UPSTREAM'), String(e)).to.equal(true);
    expect(e).to.include({ status: 503, flag: 'UH' });
    const res = await edges().statusFetch('http://reviews:9080/x');
    expect([res.status, await res.text(), res.headers.get(RESPONSE_FLAGS_HEADER)]).to.deep.equal([503, 'no healthy upstream', 'UH']);
  });

  it('routes the same request once the DestinationRule arrives, and answers NC again once it is gone', async () => {
    use(compileConfig('1', [ROUTE_TO_V2], 'bookinfo'));
    clusters.setEndpoints(HOST, [instance('a', port, 'v2')]);
    const { request } = edges();
    expect(isWeftErrorCode(await request('http://reviews:9080/x').catch((x: unknown) => x), 'CLUSTER_NOT_FOUND')).to.equal(true);
    use(compileConfig('2', [ROUTE_TO_V2, RULE('v1', 'v2')], 'bookinfo'));
    const res = await request('http://reviews:9080/x');
    expect([res.statusCode, await res.body.text()]).to.deep.equal([200, 'reviews-v2']);
    use(compileConfig('3', [ROUTE_TO_V2, RULE('v1')], 'bookinfo'));
    expect(isWeftErrorCode(await request('http://reviews:9080/x').catch((x: unknown) => x), 'CLUSTER_NOT_FOUND')).to.equal(true);
    expect(hits).to.equal(1);
  });
});
