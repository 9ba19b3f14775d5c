import { expect } from 'chai';
import type { ResourceMsg } from '@weft/api';
import { ConfigRejectedError } from './compile.js';
import { ConfigCompiler } from './config-compiler.js';
import { resourceMsgKey, type ResourceChange } from './received-config.js';
import { resourceMsg } from './test-resources.js';
import { NO_AUTHORIZATION } from './workload-authorization.js';

const put = (...resources: ResourceMsg[]): ResourceChange[] => resources.map((resource) => ({ key: resourceMsgKey(resource), resource }));
const del = (r: ResourceMsg): ResourceChange => ({ key: resourceMsgKey(r), resource: undefined });
const scope = { namespace: 'default', labels: { app: 'reviews', version: 'v1' }, rootNamespace: 'istio-system' };

describe('ConfigCompiler: AuthorizationPolicy', () => {
  it('chooses the policies of this workload once per change, and keeps them while other kinds change', () => {
    const compiler = new ConfigCompiler('default', scope);
    const mine = resourceMsg('AuthorizationPolicy', 'default', 'reviews-viewer', { selector: { matchLabels: { app: 'reviews' } }, rules: [{}] });
    const other = resourceMsg('AuthorizationPolicy', 'default', 'ratings-viewer', { selector: { matchLabels: { app: 'ratings' } }, rules: [{}] });
    const meshWide = resourceMsg('AuthorizationPolicy', 'istio-system', 'deny-admin', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] });
    const first = compiler.update('1', put(mine, other, meshWide));
    expect([...first.authorization.sources].sort()).to.deep.equal(['default/reviews-viewer', 'istio-system/deny-admin']);
    expect(first.authorization.deny).to.have.length(1);
    expect(first.authorization.allow).to.have.length(1);
    const vs = resourceMsg('VirtualService', 'default', 'reviews', { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' } }] }] });
    const second = compiler.update('2', put(vs));
    expect(second.authorization).to.equal(first.authorization);
    const third = compiler.update('3', [del(mine), del(meshWide)]);
    expect(third.authorization).to.equal(NO_AUTHORIZATION);
  });

  it('rejects (to NACK) a policy it cannot enforce, naming it and the field, and compiles again once it is gone', () => {
    const compiler = new ConfigCompiler('default', scope);
    const custom = resourceMsg('AuthorizationPolicy', 'default', 'ext', { action: 'CUSTOM', provider: { name: 'x' }, rules: [{}] });
    expect(() => compiler.update('1', put(custom)))
      .to.throw(ConfigRejectedError)
      .with.property('message')
      .that.matches(/^AuthorizationPolicy default\/ext: spec\.action: CUSTOM is not supported by Weft yet/);
    expect(compiler.update('2', [del(custom)]).authorization).to.equal(NO_AUTHORIZATION);
  });
});
