import { expect } from 'chai';
import type { WorkloadMsg } from '@weft/api';
import { EndpointRegistry } from './endpoint-registry.js';

const workload = (instanceId: string, labels: Record<string, string> = {}): WorkloadMsg => ({
  instanceId, service: 'reviews', namespace: 'bookinfo', labels, serviceAccount: 'sa', workloadName: 'reviews-v1',
});
const endpoint = (port: number) => ({ address: '127.0.0.1', port, protocol: 'http', servicePort: 9080 });
const HOST = 'reviews.bookinfo.svc.cluster.local';
const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('EndpointRegistry', () => {
  let registry: EndpointRegistry;
  let changes: { hosts: string[]; version: number }[];
  beforeEach(() => {
    registry = new EndpointRegistry(50);
    changes = [];
    registry.onHostsChanged((hosts, version) => changes.push({ hosts, version }));
  });
  afterEach(() => registry.close());

  it('lists registered instances by host with app defaulting to the service name', async () => {
    registry.connect(workload('a', { version: 'v1' }), 's1');
    registry.register('a', 's1', [endpoint(1001)]);
    await tick();
    const list = registry.hostEndpoints(HOST);
    expect(list.instances).to.have.length(1);
    expect(list.instances[0]!.labels).to.deep.equal({ version: 'v1', app: 'reviews' });
    expect(changes).to.deep.equal([{ hosts: [HOST], version: 1 }]);
  });

  it('coalesces changes of one tick into one notification', async () => {
    registry.connect(workload('a'), 's1');
    registry.connect(workload('b'), 's2');
    registry.register('a', 's1', [endpoint(1001)]);
    registry.register('b', 's2', [endpoint(1002)]);
    registry.register('a', 's1', [endpoint(1003)]);
    await tick();
    expect(changes).to.have.length(1);
    expect(registry.hostEndpoints(HOST).instances.map((i) => i.endpoint.port)).to.have.members([1002, 1003]);
  });

  it('removes a disconnected workload after the grace period', async () => {
    registry.connect(workload('a'), 's1');
    registry.register('a', 's1', [endpoint(1001)]);
    registry.disconnect('a', 's1');
    await tick();
    expect(registry.hostEndpoints(HOST).instances).to.have.length(1);
    await sleep(80);
    expect(registry.hostEndpoints(HOST).instances).to.have.length(0);
    expect(changes.at(-1)!.hosts).to.deep.equal([HOST]);
  });

  it('keeps a workload that says Hello again within the grace period', async () => {
    registry.connect(workload('a'), 's1');
    registry.register('a', 's1', [endpoint(1001)]);
    registry.disconnect('a', 's1');
    registry.connect(workload('a'), 's2');
    registry.disconnect('a', 's1'); // the old session ending late does not count
    await sleep(80);
    expect(registry.hostEndpoints(HOST).instances).to.have.length(1);
  });
});

describe('EndpointRegistry: bounded state', () => {
  let registry: EndpointRegistry;
  beforeEach(() => (registry = new EndpointRegistry(20)));
  afterEach(() => registry.close());

  it('remembers nothing about hosts nobody serves, however many are asked about', () => {
    for (let i = 0; i < 10_000; i++) expect(registry.hostEndpoints(`h${i}.ns.svc.cluster.local`).instances).to.deep.equal([]);
    expect(registry.sizes()).to.deep.equal({ workloads: 0, hosts: 0, cachedHosts: 0 });
  });

  it('forgets a host once its last workload has left', async () => {
    registry.connect(workload('a'), 's1');
    registry.connect({ ...workload('b'), service: 'ratings' }, 's2');
    registry.register('a', 's1', [endpoint(1001)]);
    expect(registry.hostEndpoints(HOST).instances).to.have.length(1);
    expect(registry.hostEndpoints('ratings.bookinfo.svc.cluster.local').instances).to.have.length(0);
    registry.disconnect('a', 's1');
    registry.disconnect('b', 's2');
    await sleep(60);
    expect(registry.sizes()).to.deep.equal({ workloads: 0, hosts: 0, cachedHosts: 0 });
  });
});

describe('EndpointRegistry: one session per instance', () => {
  let registry: EndpointRegistry;
  beforeEach(() => (registry = new EndpointRegistry(20)));
  afterEach(() => registry.close());

  it('refuses an instance id held by a live session, and keeps the live one registered', async () => {
    expect(registry.connect(workload('a'), 's1').ok).to.equal(true);
    registry.register('a', 's1', [endpoint(1001)]);
    const taken = registry.connect(workload('a', { version: 'evil' }), 's2');
    expect(taken.ok).to.equal(false);
    expect(taken.ok ? '' : taken.reason).to.contain('"a" is registered by a live session (s1)');
    registry.register('a', 's2', []); // the refused session's writes go nowhere
    registry.disconnect('a', 's2'); // nor does its end
    await sleep(60);
    const instances = registry.hostEndpoints(HOST).instances;
    expect(instances.map((i) => [i.endpoint.port, i.labels.version])).to.deep.equal([[1001, undefined]]);
  });

  it('lets a broken session resume within its grace period', async () => {
    registry.connect(workload('a'), 's1');
    registry.register('a', 's1', [endpoint(1001)]);
    registry.disconnect('a', 's1');
    expect(registry.connect(workload('a'), 's2').ok).to.equal(true);
    await sleep(60);
    expect(registry.hostEndpoints(HOST).instances).to.have.length(1);
  });
});
