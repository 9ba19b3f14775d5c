import { expect } from 'chai';
import { validationIssues } from '../validation-issues.js';

function issuesOf(spec: unknown, apiVersion = 'security.istio.io/v1'): string[] {
  return validationIssues({ apiVersion, kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'shop' }, spec });
}

describe('PeerAuthentication', () => {
  it('accepts every mode, mesh-, namespace- and workload-wide, with port-level modes under a selector, in v1 and v1beta1', () => {
    for (const mode of ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT']) expect(issuesOf({ mtls: { mode } })).to.deep.equal([]);
    expect(issuesOf({})).to.deep.equal([]);
    expect(issuesOf({ selector: { matchLabels: { app: 'cart' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'DISABLE' } } }, 'security.istio.io/v1beta1')).to.deep.equal([]);
  });

  it('names the field of a wrong mode, a bad port, a port-level mode without a selector, and an unknown field', () => {
    expect(issuesOf({ mtls: { mode: 'MUTUAL' } })[0]).to.match(/^spec\.mtls\.mode: .*MUTUAL/);
    expect(issuesOf({ selector: { matchLabels: { app: 'cart' } }, portLevelMtls: { http: { mode: 'STRICT' } } })[0]).to.match(/^spec\.portLevelMtls.*"http".*1\.\.65535/);
    expect(issuesOf({ selector: { matchLabels: { app: 'cart' } }, portLevelMtls: { '0': { mode: 'STRICT' } } })[0]).to.match(/^spec\.portLevelMtls/);
    expect(issuesOf({ portLevelMtls: { '8080': { mode: 'STRICT' } } })).to.deep.equal(['spec.portLevelMtls: needs a selector: port-level mTLS applies to the ports of selected workloads only (Istio refuses it on a namespace- or mesh-wide policy too)']);
    expect(issuesOf({ mtls: { mode: 'STRICT', extra: 1 } })[0]).to.match(/^spec\.mtls\.extra/);
  });
});
