import { expect } from 'chai';
import { WeftError, isWeftError, isWeftErrorCode, noHealthyUpstream } from './errors.js';

describe('WeftError', () => {
  it('carries code, edge status and Envoy flag', () => {
    const e = noHealthyUpstream('ratings.bookinfo.svc.cluster.local', 'v1');
    expect(e.code).to.equal('NO_HEALTHY_UPSTREAM');
    expect(e.status).to.equal(503);
    expect(e.flag).to.equal('UH');
    expect(e.message).to.equal('no healthy upstream for ratings.bookinfo.svc.cluster.local subset v1');
    expect(new WeftError('NO_ROUTE', 'x').status).to.equal(404);
    expect(new WeftError('NO_ROUTE', 'x').flag).to.equal('NR');
  });

  it('is recognised by its brand, not by instanceof', () => {
    expect(isWeftError(new WeftError('MESH_CLOSED', 'closed'))).to.equal(true);
    expect(isWeftError(new Error('plain'))).to.equal(false);
    expect(isWeftError(null)).to.equal(false);
    expect(isWeftError('NO_ROUTE')).to.equal(false);
    // A copy from another instance of the package has the same global brand.
    const foreign = Object.assign(new Error('other copy'), { [Symbol.for('weft.WeftError')]: true, code: 'UPSTREAM_RESET' });
    expect(isWeftError(foreign)).to.equal(true);
    expect(isWeftErrorCode(foreign, 'UPSTREAM_RESET')).to.equal(true);
    expect(isWeftErrorCode(foreign, 'NO_ROUTE')).to.equal(false);
  });
});
