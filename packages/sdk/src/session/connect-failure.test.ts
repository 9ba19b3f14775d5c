import { expect } from 'chai';
import { explainConnectFailure, UNTRUSTED_WEFTD } from './connect-failure.js';

describe('explainConnectFailure', () => {
  const at = (details: string, code = 'UNAVAILABLE', address = '127.0.0.1:15010') => explainConnectFailure(address, code, details);
  const openSsl = (reason: string) =>
    `No connection established. Last error: Error: 80DC06CB727F0000:error:0A000460:SSL routines:ssl3_read_bytes:${reason}:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 120 (2026-11-25T15:17:07.433Z). Resolution note: `;

  it('names a refused connection and how to start weftd, without grpc-js noise', () => {
    const f = at('No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:15010 (2026-11-25T15:17:07.433Z). Resolution note: ');
    expect(f.kind).to.equal('refused');
    expect(f.message).to.match(/^connection refused by 127\.0\.0\.1:15010: is weftd running there\?/).and.include('npx weftd');
    expect(f.message).not.to.match(/Resolution note|2026-/);
  });

  it("names weftd's admin port (HTTPS without HTTP/2) when that is what the address points at", () => {
    const f = at(openSsl('tlsv1 alert no application protocol'), 'UNAVAILABLE', '127.0.0.1:15000');
    expect(f.kind).to.equal('protocol');
    expect(f.message).to.include("does not speak weftd's session protocol (gRPC over HTTP/2 on TLS)").and.include('refused HTTP/2 (tlsv1 alert no application protocol)');
    expect(f.message).to.include("Port 15000 is weftd's admin API").and.include('session port is 15010');
    expect(f.message).not.to.match(/deps\/openssl|SSL routines/);
    expect(at(openSsl('tlsv1 alert no application protocol'), 'UNAVAILABLE', '127.0.0.1:8080').message).to.include("If this is weftd's admin API port");
    expect(at('Protocol error', 'UNAVAILABLE', '127.0.0.1:8080').message).to.include('If this is weftd');
  });

  it('says a plaintext server answered where TLS was expected', () => {
    const f = at('Last error: 4001:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../ssl3_record.c:350:');
    expect(f.kind).to.equal('tls');
    expect(f.message).to.equal(
      "127.0.0.1:15010 answered without TLS (wrong version number): weftd's session port is TLS, so this is a plaintext server (an HTTP server? a weftd from before TLS?); check options.controlPlane or WEFT_CONTROL_PLANE",
    );
    expect(at('Client network socket disconnected before secure TLS connection was established').message).to.include('closed the connection during the TLS handshake');
    expect(at(openSsl('sslv3 alert handshake failure')).message).to.equal('TLS handshake with 127.0.0.1:15010 failed: sslv3 alert handshake failure');
  });

  it("passes on, as 'untrusted', what the workload's checks of weftd's certificate found", () => {
    const f = at(`No connection established. Last error: Error: ${UNTRUSTED_WEFTD}its certificate names spiffe://cluster.local/ns/shop/sa/cart, not weftd's identity (2026-11-25T15:17:07.433Z). Resolution note: `);
    expect(f.kind).to.equal('untrusted');
    expect(f.message).to.equal("127.0.0.1:15010 is not trusted as weftd: its certificate names spiffe://cluster.local/ns/shop/sa/cart, not weftd's identity");
  });

  it('tells DNS failures and a refused session apart', () => {
    expect(at('Name resolution failed for target dns:nope.invalid:15010').kind).to.equal('dns');
    const rejected = at('instance id reviews-1 is held by a live session', 'ALREADY_EXISTS');
    expect(rejected.kind).to.equal('rejected');
    expect(rejected.message).to.include('ALREADY_EXISTS: instance id reviews-1');
  });
});
