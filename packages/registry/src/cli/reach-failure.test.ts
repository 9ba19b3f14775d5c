// What weftctl says when weftd's admin API gives no answer: each message names what is wrong and what
// to do. The errors are shaped as Node's https client raises them (codes, and OpenSSL's texts as seen here).
import { expect } from 'chai';
import { explainRequestFailure } from './reach-failure.js';

const URL = 'https://127.0.0.1:15010';

describe('explainRequestFailure', () => {
  it('tells the session port (an HTTP/2 SETTINGS frame) from other servers that do not speak HTTP/1.1', () => {
    const settings = Buffer.from([0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100]);
    const h2 = explainRequestFailure(URL, { code: 'HPE_INVALID_CONSTANT', rawPacket: settings });
    expect(h2).to.contain("is not weftd's admin API").and.contain('gRPC over HTTP/2').and.contain('port 15000');
    const other = explainRequestFailure(URL, { code: 'HPE_INVALID_CONSTANT', rawPacket: Buffer.from('SSH-2.0-OpenSSH_9.6\r\n') });
    expect(other).to.contain("is not weftd's admin API: its answer is not HTTP/1.1 (HPE_INVALID_CONSTANT)");
  });

  it("names the session port when TLS refuses every protocol but h2 (the TLS alert of weftd's gRPC port)", () => {
    const alert = { code: 'EPROTO', message: 'write EPROTO 801C:error:0A000460:SSL routines:ssl3_read_bytes:tlsv1 alert no application protocol:rec_layer_s3.c:1601:SSL alert number 120' };
    expect(explainRequestFailure(URL, alert)).to.contain("is not weftd's admin API: it speaks only HTTP/2 (gRPC)").and.contain('default 15000');
  });

  it("says a server that answers in plain text does not speak TLS, and that weftd's admin API is HTTPS", () => {
    const plain = { code: 'EPROTO', message: 'write EPROTO 80AC:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:ssl3_record.c:350:' };
    const msg = explainRequestFailure(URL, plain);
    expect(msg).to.contain(`${URL} does not speak TLS`).and.contain("weftd's admin API is HTTPS").and.contain('--server');
    expect(explainRequestFailure(URL, { code: 'EPROTO', message: 'some other SSL routines failure' })).to.contain('TLS failed (EPROTO)');
  });

  it("says a certificate not signed by the credential's roots comes from another weftd, naming the credential", () => {
    const foreign = explainRequestFailure(URL, { code: 'SELF_SIGNED_CERT_IN_CHAIN' }, '--credentials /tmp/other/admin.cred');
    expect(foreign).to.contain(`cannot trust ${URL}: its certificate is not signed by a root of the admin credential (--credentials /tmp/other/admin.cred)`);
    expect(foreign).to.contain("another weftd's").and.contain('take that weftd');
    expect(explainRequestFailure(URL, { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 'x.cred')).to.contain('not signed by a root of the admin credential (x.cred)');
    const none = explainRequestFailure(URL, { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    expect(none).to.contain('has none').and.contain('--credentials FILE').and.not.contain("another weftd's");
    expect(explainRequestFailure(URL, { code: 'CERT_HAS_EXPIRED' }, 'x.cred')).to.contain('expired').and.contain('clocks');
  });

  it("passes on the reason a mesh certificate is not weftd's", () => {
    const e = Object.assign(new Error("the server's certificate is signed by the mesh CA but is not weftd's"), { code: 'ERR_WEFT_NOT_WEFTD' });
    expect(explainRequestFailure(URL, e)).to.equal(`${URL}: the server's certificate is signed by the mesh CA but is not weftd's`);
  });

  it('says what to do for the common mistakes, and keeps the code of anything else', () => {
    expect(explainRequestFailure(URL, { code: 'ECONNREFUSED' })).to.contain('is weftd running?');
    expect(explainRequestFailure(URL, { code: 'ENOTFOUND' })).to.contain('does not resolve');
    expect(explainRequestFailure(URL, { code: 'ECONNRESET' })).to.contain('closed the connection without answering');
    expect(explainRequestFailure(URL, { code: 'EHOSTUNREACH' })).to.equal(`cannot reach weftd at ${URL}: EHOSTUNREACH`);
  });
});
