import { expect } from 'chai';
import { explainRequestFailure } from './reach-failure.js';

const URL = 'http://127.0.0.1:15010';

describe('explainRequestFailure', () => {
  it('tells the session port (an HTTP/2 SETTINGS frame) from other servers that do not speak HTTP/1.1', () => {
    const settings = Buffer.from([0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100]);
    const h2 = explainRequestFailure(URL, { code: 'HPE_INVALID_CONSTANT', rawPacket: settings });
    expect(h2).to.contain("is not weftd's admin API").and.contain('gRPC over HTTP/2').and.contain('port 15000');
    const other = explainRequestFailure(URL, { code: 'HPE_INVALID_CONSTANT', rawPacket: Buffer.from('SSH-2.0-OpenSSH_9.6\r\n') });
    expect(other).to.contain("is not weftd's admin API: its answer is not HTTP/1.1 (HPE_INVALID_CONSTANT)");
  });

  it('says what to do for the common mistakes, and keeps the code of anything else', () => {
    expect(explainRequestFailure(URL, { code: 'ECONNREFUSED' })).to.contain('is weftd running?');
    expect(explainRequestFailure(URL, { code: 'ENOTFOUND' })).to.contain('does not resolve');
    expect(explainRequestFailure('https://h:15000', { code: 'EPROTO', message: 'wrong version number' })).to.contain('use http:// instead of https://');
    expect(explainRequestFailure(URL, { code: 'ECONNRESET' })).to.contain('closed the connection without answering');
    expect(explainRequestFailure(URL, { code: 'EHOSTUNREACH' })).to.equal(`cannot reach weftd at ${URL}: EHOSTUNREACH`);
  });
});
