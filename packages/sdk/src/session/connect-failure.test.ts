import { expect } from 'chai';
import { explainConnectFailure } from './connect-failure.js';

describe('explainConnectFailure', () => {
  const at = (details: string, code = 'UNAVAILABLE', address = '127.0.0.1:15010') => explainConnectFailure(address, code, details);

  it('names a refused connection and how to start weftd, without grpc-js noise', () => {
    const f = at('No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:15010 (2026-11-25T15:17:07.433Z). Resolution note: ');
    expect(f.kind).to.equal('refused');
    expect(f.message).to.match(/^connection refused by 127\.0\.0\.1:15010: is weftd running there\?/).and.include('npx weftd');
    expect(f.message).not.to.match(/Resolution note|2026-/);
  });

  it("names weftd's admin port when that is what the address points at", () => {
    const f = at('No connection established. Last error: Protocol error (2026-11-25T15:17:07.433Z). Resolution note: ', 'UNAVAILABLE', '127.0.0.1:15000');
    expect(f.kind).to.equal('protocol');
    expect(f.message).to.include("Port 15000 is weftd's admin API").and.include('session port is 15010');
    expect(at('Protocol error', 'UNAVAILABLE', '127.0.0.1:8080').message).to.include('If this is weftd');
  });

  it('tells DNS failures, TLS mismatches and a refused session apart', () => {
    expect(at('Name resolution failed for target dns:nope.invalid:15010').kind).to.equal('dns');
    expect(at('Last error: 4001:error:0A00010B:SSL routines:ssl3_get_record:wrong version number').kind).to.equal('tls');
    const rejected = at('instance id reviews-1 is held by a live session', 'ALREADY_EXISTS');
    expect(rejected.kind).to.equal('rejected');
    expect(rejected.message).to.include('ALREADY_EXISTS: instance id reviews-1');
  });
});
