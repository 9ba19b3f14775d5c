import { expect } from 'chai';
import type { InstanceMsg } from '@weft/api';
import { compileConfig, ConfigCompiler } from '../config/config-compiler.js';
import { resourceMsgKey } from '../config/received-config.js';
import { resourceMsg } from '../config/test-resources.js';
import { ClusterDirectory } from './clusters.js';

const HOST = 'reviews.bookinfo.svc.cluster.local';

function instance(id: string, port: number, version: string, servicePort = 0): InstanceMsg {
  return {
    instanceId: id,
    workloadName: `reviews-${version}`,
    labels: { app: 'reviews', version },
    serviceAccount: 'bookinfo-reviews',
    endpoint: { address: '127.0.0.1', port, protocol: 'http', servicePort },
  };
}

describe('ClusterDirectory', () => {
  it('selects subset endpoints by labels and the balancer by DestinationRule', () => {
    const dir = new ClusterDirectory();
    dir.setEndpoints(HOST, [instance('a', 1001, 'v1'), instance('b', 1002, 'v2'), instance('c', 1003, 'v1')]);
    const view = dir.view(HOST);
    expect(view.known).to.equal(true);
    const all = dir.cluster(view, undefined, 0);
    expect(all.endpoints.map((e) => e.port)).to.deep.equal([1001, 1002, 1003]);
    expect(all.balancer).to.equal('LEAST_REQUEST');
    // A subset nobody defines has no endpoints.
    expect(dir.cluster(view, 'v1', 0).subsetDefined).to.equal(false);
    expect(dir.cluster(view, 'v1', 0).picker.pick()).to.equal(undefined);

    dir.setConfig(compileConfig('2', [resourceMsg('DestinationRule', 'bookinfo', 'reviews', {
      host: 'reviews', trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } }, subsets: [{ name: 'v1', labels: { version: 'v1' } }],
    })], 'bookinfo'));
    const v1 = dir.cluster(view, 'v1', 0);
    expect(v1.endpoints.map((e) => e.port)).to.deep.equal([1001, 1003]);
    expect(v1.balancer).to.equal('ROUND_ROBIN');
    const a = v1.picker.pick()!;
    const b = v1.picker.pick()!;
    expect(a).to.not.equal(b);
    expect(v1.picker.pick()).to.equal(a);
  });

  it('filters by service port: 0 serves every port', () => {
    const dir = new ClusterDirectory();
    dir.setEndpoints(HOST, [instance('a', 1001, 'v1', 9080), instance('b', 1002, 'v1', 0), instance('c', 1003, 'v1', 8080)]);
    const view = dir.view(HOST);
    expect(dir.cluster(view, undefined, 9080).endpoints.map((e) => e.port)).to.deep.equal([1001, 1002]);
    expect(dir.cluster(view, undefined, 0).endpoints).to.have.length(3);
  });

  it('keeps endpoint objects (and their outstanding counts) across updates and reports origins that left', () => {
    const dir = new ClusterDirectory();
    dir.setEndpoints(HOST, [instance('a', 1001, 'v1'), instance('b', 1002, 'v1')]);
    const view = dir.view(HOST);
    const before = dir.cluster(view, undefined, 0);
    before.endpoints[0]!.outstanding = 3;
    const gone = dir.setEndpoints(HOST, [instance('a', 1001, 'v1'), instance('c', 1003, 'v1')]);
    expect(gone).to.deep.equal(['http://127.0.0.1:1002']);
    const after = dir.cluster(view, undefined, 0);
    expect(after).to.not.equal(before); // rebuilt
    expect(after.endpoints[0]).to.equal(before.endpoints[0]);
    expect(after.endpoints[0]!.outstanding).to.equal(3);
    expect(dir.setEndpoints(HOST, [])).to.have.length(2);
    expect(dir.cluster(view, undefined, 0).picker.pick()).to.equal(undefined);
  });
});

describe('ClusterDirectory.setConfig', () => {
  it('rebuilds only the clusters of hosts whose DestinationRule changed', () => {
    const compiler = new ConfigCompiler('bookinfo');
    const rule = (host: string, simple: string) =>
      resourceMsg('DestinationRule', 'bookinfo', host, { host, trafficPolicy: { loadBalancer: { simple } }, subsets: [{ name: 'v1', labels: { version: 'v1' } }] }, 1);
    const dir = new ClusterDirectory();
    const RATINGS = 'ratings.bookinfo.svc.cluster.local';
    dir.setEndpoints(HOST, [instance('a', 1001, 'v1')]);
    dir.setEndpoints(RATINGS, [instance('b', 1002, 'v1')]);
    dir.setConfig(compiler.update('1', [rule('reviews', 'ROUND_ROBIN'), rule('ratings', 'ROUND_ROBIN')].map((r) => ({ key: resourceMsgKey(r), resource: r }))));
    const reviews = dir.cluster(dir.view(HOST), 'v1', 0);
    const ratings = dir.cluster(dir.view(RATINGS), 'v1', 0);
    const changed = rule('ratings', 'RANDOM');
    dir.setConfig(compiler.update('2', [{ key: resourceMsgKey(changed), resource: changed }]));
    expect(dir.cluster(dir.view(HOST), 'v1', 0)).to.equal(reviews);
    const rebuilt = dir.cluster(dir.view(RATINGS), 'v1', 0);
    expect(rebuilt).to.not.equal(ratings);
    expect(rebuilt.balancer).to.equal('RANDOM');
  });
});
