// The tls a request goes out with when portLevelSettings set one: a mesh request's cluster has it merged;
// a request to a host outside the mesh takes the entry for its URL's port.
import { expect } from 'chai';
import { compileConfig } from '../config/config-compiler.js';
import { resourceMsg } from '../config/test-resources.js';
import { clusterTlsOf } from './cluster-tls.js';
import type { OutboundRequest } from './pipeline.js';
import { TargetParser } from './target.js';

const parser = new TargetParser('shop');
function external(url: string): OutboundRequest {
  return { method: 'GET', target: parser.parse(url), headers: {}, body: null, signal: undefined, external: true, route: undefined, endpoint: undefined, record: { flags: [], attempts: 0 } };
}

describe('tls per destination port', () => {
  it("applies a portLevelSettings entry's tls to a host outside the mesh on that port, the rule's elsewhere", () => {
    const config = compileConfig('1', [resourceMsg('DestinationRule', 'shop', 'api', {
      host: 'api.example.com',
      trafficPolicy: { tls: { mode: 'SIMPLE' }, portLevelSettings: [{ port: { number: 8443 }, tls: { mode: 'SIMPLE', sni: 'other.example.com' } }, { port: { number: 80 }, connectionPool: { tcp: { maxConnections: 1 } } }] },
    })], 'shop');
    expect(clusterTlsOf(config, external('http://api.example.com:8443/x')).origination?.sni).to.equal('other.example.com');
    const rule = clusterTlsOf(config, external('http://api.example.com:9000/x'));
    expect([rule.mode, rule.origination?.sni]).to.deep.equal(['SIMPLE', undefined]);
    // Port 80 has an entry without tls: not inherited, so the default (auto-mTLS, nothing originated).
    expect(clusterTlsOf(config, external('http://api.example.com/x')).mode).to.equal('ISTIO_MUTUAL');
    // The same object each time: pools are keyed by it.
    expect(clusterTlsOf(config, external('http://api.example.com:8443/y'))).to.equal(clusterTlsOf(config, external('http://api.example.com:8443/x')));
  });
});
