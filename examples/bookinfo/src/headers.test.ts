import { expect } from 'chai';
import { b3Headers, copyHeaders, FORWARDED_HEADERS, PRODUCTPAGE_COPIED_HEADERS } from './headers.js';

describe('header propagation', () => {
  const traceId = '463ac35c9f6413ad48485a3953bb6124';
  const spanId = 'a2fb4a1d1a96d312';

  it('re-injects a multi-header B3 context (sampled, no parent, as B3MultiFormat does)', () => {
    expect(b3Headers({ 'x-b3-traceid': traceId, 'x-b3-spanid': spanId, 'x-b3-parentspanid': '0020000000000001', 'x-b3-sampled': '1' })).to.deep.equal({
      'x-b3-traceid': traceId,
      'x-b3-spanid': spanId,
      'x-b3-sampled': '1',
    });
  });

  it('turns the single b3 header into multi headers, debug into x-b3-flags', () => {
    expect(b3Headers({ b3: `${traceId}-${spanId}-0` })).to.deep.equal({ 'x-b3-traceid': traceId, 'x-b3-spanid': spanId, 'x-b3-sampled': '0' });
    expect(b3Headers({ b3: `${traceId}-${spanId}-d` })).to.deep.equal({ 'x-b3-traceid': traceId, 'x-b3-spanid': spanId, 'x-b3-flags': '1' });
  });

  it('drops an invalid or partial B3 context', () => {
    expect(b3Headers({ 'x-b3-traceid': 'xyz', 'x-b3-spanid': spanId })).to.deep.equal({});
    expect(b3Headers({ 'x-b3-traceid': traceId })).to.deep.equal({});
    expect(b3Headers({})).to.deep.equal({});
  });

  it('copies only listed headers that are present', () => {
    expect(copyHeaders({ 'x-request-id': 'r1', 'end-user': 'jason', host: 'h' }, FORWARDED_HEADERS)).to.deep.equal({ 'x-request-id': 'r1', 'end-user': 'jason' });
  });

  it("holds Istio's lists exactly (ISTIO-REFERENCE 1.4)", () => {
    expect(FORWARDED_HEADERS).to.deep.equal([
      'x-request-id', 'x-ot-span-context', 'x-datadog-trace-id', 'x-datadog-parent-id', 'x-datadog-sampling-priority',
      'traceparent', 'tracestate', 'x-cloud-trace-context', 'grpc-trace-bin', 'x-b3-traceid', 'x-b3-spanid',
      'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags', 'sw8', 'end-user', 'user-agent', 'cookie', 'authorization', 'jwt',
    ]);
    expect(PRODUCTPAGE_COPIED_HEADERS).to.deep.equal([
      'x-request-id', 'x-ot-span-context', 'x-datadog-trace-id', 'x-datadog-parent-id', 'x-datadog-sampling-priority',
      'traceparent', 'tracestate', 'x-cloud-trace-context', 'grpc-trace-bin', 'sw8', 'user-agent', 'cookie', 'authorization', 'jwt',
    ]);
  });
});
