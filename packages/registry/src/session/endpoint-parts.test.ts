import { expect } from 'chai';
import type { HostEndpointsMsg } from '@weft/api';
import { endpointParts } from './endpoint-parts.js';

const host = (name: string, n: number): HostEndpointsMsg => ({
  host: name,
  instances: Array.from({ length: n }, (_, i) => ({ instanceId: `${name}-${i}`, workloadName: 'w', labels: {}, serviceAccount: 'sa', endpoint: { address: '127.0.0.1', port: 1000 + i, protocol: 'http', servicePort: 0 } })),
});
/** 10 bytes per host plus 100 per instance. */
const sizeOf = (h: HostEndpointsMsg) => 10 + 100 * h.instances.length;

describe('endpointParts', () => {
  it('keeps a small update in one part', () => {
    const hosts = [host('a', 1), host('b', 2)];
    expect(endpointParts(hosts, 1000, true, sizeOf)).to.deep.equal([hosts]);
  });

  it('packs whole hosts into parts no larger than the part size', () => {
    const hosts = [host('a', 4), host('b', 4), host('c', 4), host('d', 1)];
    const parts = endpointParts(hosts, 900, false, sizeOf);
    expect(parts.map((p) => p.map((h) => h.host))).to.deep.equal([['a', 'b'], ['c', 'd']]);
    for (const p of parts) expect(p.reduce((s, h) => s + sizeOf(h), 0)).to.be.at.most(900);
  });

  it("cuts one large host's instances into consecutive slices only when the client reassembles them", () => {
    const big = host('big', 95);
    expect(endpointParts([big], 1000, false, sizeOf)).to.deep.equal([[big]]);
    const parts = endpointParts([host('a', 1), big, host('z', 1)], 1000, true, sizeOf);
    expect(parts.map((p) => p.map((h) => `${h.host}:${h.instances.length}`))).to.deep.equal([['a:1'], ...Array.from({ length: 10 }, (_, i) => [`big:${i < 9 ? 10 : 5}`]), ['z:1']]);
    const rejoined = parts.flat().filter((h) => h.host === 'big').flatMap((h) => h.instances);
    expect(rejoined).to.deep.equal(big.instances);
    for (const p of parts) expect(p.reduce((s, h) => s + sizeOf(h), 0)).to.be.at.most(1010);
  });
});
