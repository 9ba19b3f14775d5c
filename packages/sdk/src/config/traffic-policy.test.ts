// How a cluster's trafficPolicy is merged from the rule, the subset and their portLevelSettings:
// Istio's MergeSubsetTrafficPolicy (pilot/pkg/networking/util), checked through compileConfig and the
// clusters built from it.
import { expect } from 'chai';
import type { InstanceMsg } from '@weft/api';
import { ClusterDirectory } from '../client/clusters.js';
import { compileConfig } from './config-compiler.js';
import { resourceMsg } from './test-resources.js';

const HOST = 'reviews.bookinfo.svc.cluster.local';

function instance(id: string, port: number, version: string): InstanceMsg {
  return { instanceId: id, workloadName: `reviews-${version}`, labels: { version }, serviceAccount: 'sa', endpoint: { address: '127.0.0.1', port, protocol: 'http', servicePort: 0 } };
}

function clustersFor(spec: unknown) {
  const dir = new ClusterDirectory();
  dir.setConfig(compileConfig('1', [resourceMsg('DestinationRule', 'bookinfo', 'reviews', spec)], 'bookinfo'));
  dir.setEndpoints(HOST, [instance('a', 1001, 'v1'), instance('b', 1002, 'v2')]);
  const view = dir.view(HOST);
  return (subset: string | undefined, port: number) => dir.cluster(view, subset, port).policy;
}

describe('trafficPolicy merged per cluster (rule, subset, port)', () => {
  it('a portLevelSettings entry replaces the rule for its port, and what it does not set is the default, not the rule', () => {
    const policy = clustersFor({
      host: 'reviews',
      trafficPolicy: {
        loadBalancer: { simple: 'ROUND_ROBIN' },
        outlierDetection: { consecutive5xxErrors: 2 },
        tls: { mode: 'DISABLE' },
        portLevelSettings: [{ port: { number: 9080 }, connectionPool: { tcp: { maxConnections: 3 } } }],
      },
    });
    const other = policy(undefined, 8080);
    expect(other.loadBalancing.balancer).to.equal('ROUND_ROBIN');
    expect(other.outlierDetection?.consecutive5xxErrors).to.equal(2);
    expect(other.tls.mode).to.equal('DISABLE');
    expect(other.connectionPool).to.equal(undefined);
    const p9080 = policy(undefined, 9080);
    expect(p9080.connectionPool?.maxConnections).to.equal(3);
    expect(p9080.loadBalancing.balancer).to.equal('LEAST_REQUEST');
    expect(p9080.outlierDetection).to.equal(undefined);
    expect(p9080.tls.mode).to.equal('ISTIO_MUTUAL');
    // A request that names no port gets the rule's own settings.
    expect(policy(undefined, 0).loadBalancing.balancer).to.equal('ROUND_ROBIN');
  });

  it("a subset's trafficPolicy replaces each part it sets, over the rule (or the rule's port entry)", () => {
    const policy = clustersFor({
      host: 'reviews',
      trafficPolicy: {
        loadBalancer: { simple: 'ROUND_ROBIN' },
        connectionPool: { http: { http2MaxRequests: 10 } },
        portLevelSettings: [{ port: { number: 9080 }, loadBalancer: { simple: 'RANDOM' } }],
      },
      subsets: [
        { name: 'v1', labels: { version: 'v1' }, trafficPolicy: { outlierDetection: { consecutive5xxErrors: 7 } } },
        { name: 'v2', labels: { version: 'v2' } },
      ],
    });
    const v1 = policy('v1', 8080);
    expect([v1.loadBalancing.balancer, v1.connectionPool?.maxRequests, v1.outlierDetection?.consecutive5xxErrors]).to.deep.equal(['ROUND_ROBIN', 10, 7]);
    // On 9080 the rule's port entry is the base: RANDOM, and no connection pool.
    const v1p = policy('v1', 9080);
    expect([v1p.loadBalancing.balancer, v1p.connectionPool, v1p.outlierDetection?.consecutive5xxErrors]).to.deep.equal(['RANDOM', undefined, 7]);
    // A subset without a trafficPolicy is the rule as it applies to the port.
    expect(policy('v2', 9080).loadBalancing.balancer).to.equal('RANDOM');
    expect(policy('v2', 8080).connectionPool?.maxRequests).to.equal(10);
  });

  it("a subset's portLevelSettings entry replaces all four parts for its port", () => {
    const policy = clustersFor({
      host: 'reviews',
      trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' }, outlierDetection: {}, tls: { mode: 'DISABLE' } },
      subsets: [{
        name: 'v1',
        labels: { version: 'v1' },
        trafficPolicy: { connectionPool: { tcp: { maxConnections: 1 } }, portLevelSettings: [{ port: { number: 9080 }, loadBalancer: { consistentHash: { httpHeaderName: 'x-user', maglev: { tableSize: 65537 } } } }] },
      }],
    });
    const p = policy('v1', 9080);
    expect(p.loadBalancing.balancer).to.equal('MAGLEV');
    expect(p.loadBalancing.consistentHash?.key).to.deep.equal({ kind: 'header', name: 'x-user' });
    expect([p.connectionPool, p.outlierDetection, p.tls.mode]).to.deep.equal([undefined, undefined, 'ISTIO_MUTUAL']);
    const elsewhere = policy('v1', 8080);
    expect([elsewhere.loadBalancing.balancer, elsewhere.connectionPool?.maxConnections, elsewhere.outlierDetection?.consecutive5xxErrors, elsewhere.tls.mode]).to.deep.equal(['ROUND_ROBIN', 1, 5, 'DISABLE']);
  });

  it('compiles consistent hash keys, ring and table sizes, and warmup with their defaults', () => {
    const policy = clustersFor({
      host: 'reviews',
      trafficPolicy: { loadBalancer: { consistentHash: { httpCookie: { name: 'user', path: '/shop', ttl: '90s', attributes: [{ name: 'SameSite', value: 'Lax' }, { name: 'Secure' }] }, minimumRingSize: 2048 } } },
      subsets: [
        { name: 'v1', labels: { version: 'v1' }, trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN', warmupDurationSecs: '45s' } } },
        { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: { warmup: { duration: '1m', minimumPercent: 25, aggression: 2 } } } },
      ],
    });
    const ch = policy(undefined, 0).loadBalancing;
    expect(ch.balancer).to.equal('RING_HASH');
    expect(ch.consistentHash).to.deep.equal({
      key: { kind: 'cookie', name: 'user', path: '/shop', ttlMs: 90_000, attributes: '; SameSite=Lax; Secure' },
      algorithm: 'RING_HASH',
      minimumRingSize: 2048,
      tableSize: 65537,
    });
    expect(policy('v1', 0).loadBalancing.warmup).to.deep.equal({ durationMs: 45_000, minimumFraction: 0.1, aggression: 1 });
    expect(policy('v2', 0).loadBalancing).to.deep.include({ balancer: 'LEAST_REQUEST', warmup: { durationMs: 60_000, minimumFraction: 0.25, aggression: 2 } });
  });
});
