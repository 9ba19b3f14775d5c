import { expect } from 'chai';
import { WeftError, envoyLocalReply, isWeftError, isWeftErrorCode, noHealthyUpstream } from './errors.js';

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

  it("knows Envoy's local reply for failures Envoy answers, and none for the caller's own mistakes", () => {
    expect(envoyLocalReply(noHealthyUpstream('x'))).to.deep.equal({ status: 503, flag: 'UH', body: 'no healthy upstream' });
    expect(envoyLocalReply(new WeftError('UPSTREAM_CONNECT_FAILURE', 'x'))).to.deep.equal({
      status: 503,
      flag: 'UF',
      body: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
    });
    expect(envoyLocalReply(new WeftError('UPSTREAM_RESET', 'x'))?.body).to.match(/reset reason: connection termination$/);
    expect(envoyLocalReply(new WeftError('NO_ROUTE', 'x'))).to.deep.equal({ status: 404, flag: 'NR', body: '' });
    expect(envoyLocalReply(new WeftError('EXTERNAL_HOST_BLOCKED', 'x'))).to.deep.equal({ status: 502, flag: '', body: '' });
    for (const code of ['INVALID_ARGUMENT', 'MESH_CLOSED', 'REDIRECT_FAILED'] as const) {
      expect(envoyLocalReply(new WeftError(code, 'x')), code).to.equal(undefined);
    }
  });
});
