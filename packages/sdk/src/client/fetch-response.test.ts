import { expect } from 'chai';
import { Readable } from 'node:stream';
import type { OutboundResponse } from './pipeline.js';
import { localReplyResponse, RESPONSE_FLAGS_HEADER, toFetchResponse } from './fetch-response.js';

function outbound(statusCode: number, headers: OutboundResponse['headers'], chunks: string[]): OutboundResponse {
  return { statusCode, statusText: 'Fine', headers, body: Readable.from(chunks) as unknown as OutboundResponse['body'] };
}

describe('the Response of mesh.fetch', () => {
  it("is the platform's Response, with status, text, headers, body, url and redirected", async () => {
    const res = toFetchResponse(outbound(200, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] }, ['he', 'llo']), 'GET', 'HTTP://Ratings:9080/a?b=1#frag', true);
    expect(res).to.be.instanceOf(globalThis.Response);
    expect(res.status).to.equal(200);
    expect(res.statusText).to.equal('Fine');
    expect(res.headers.get('content-type')).to.equal('text/plain');
    expect(res.headers.getSetCookie()).to.deep.equal(['a=1', 'b=2']);
    expect(res.url).to.equal('http://ratings:9080/a?b=1');
    expect(res.redirected).to.equal(true);
    const copy = res.clone();
    expect(copy).to.be.instanceOf(globalThis.Response);
    expect(copy.url).to.equal('http://ratings:9080/a?b=1');
    expect(copy.redirected).to.equal(true);
    expect(await res.text()).to.equal('hello');
    expect(await copy.text()).to.equal('hello');
  });

  it('has no body for HEAD and null-body statuses, and releases the connection', async () => {
    for (const [status, method] of [[204, 'GET'], [304, 'GET'], [200, 'HEAD']] as const) {
      const out = outbound(status, {}, ['ignored']);
      const res = toFetchResponse(out, method, 'http://ratings/', false);
      expect(res.body, `${status} ${method}`).to.equal(null);
      expect(res.redirected).to.equal(false);
      for (let i = 0; i < 50 && !out.body.readableEnded; i++) await new Promise((r) => setImmediate(r));
      expect(out.body.readableEnded, 'drained').to.equal(true);
    }
  });

  it("answers as Envoy would: status, Envoy's text and the flag in a header", async () => {
    const uh = localReplyResponse({ status: 503, flag: 'UH', body: 'no healthy upstream' }, 'http://ratings/x', false);
    expect(uh).to.be.instanceOf(globalThis.Response);
    expect(uh.status).to.equal(503);
    expect(uh.statusText).to.equal('Service Unavailable');
    expect(uh.headers.get(RESPONSE_FLAGS_HEADER)).to.equal('UH');
    expect(uh.headers.get('content-type')).to.equal('text/plain');
    expect(uh.url).to.equal('http://ratings/x');
    expect(await uh.text()).to.equal('no healthy upstream');
    const blackhole = localReplyResponse({ status: 502, flag: '', body: '' }, 'http://example.com/', false);
    expect(blackhole.headers.get(RESPONSE_FLAGS_HEADER)).to.equal('-');
    expect(await blackhole.text()).to.equal('');
  });

  it('marks an overflow reply with x-envoy-overloaded, as Envoy does, and no other', () => {
    const uo = localReplyResponse({ status: 503, flag: 'UO', body: 'upstream connect error or disconnect/reset before headers. reset reason: overflow' }, 'http://ratings/', false);
    expect(uo.headers.get('x-envoy-overloaded')).to.equal('true');
    const uh = localReplyResponse({ status: 503, flag: 'UH', body: 'no healthy upstream' }, 'http://ratings/', false);
    expect(uh.headers.get('x-envoy-overloaded')).to.equal(null);
  });

  it('streams a large body with backpressure, and passes a cancel and a failure through', async () => {
    const chunk = 'x'.repeat(32 * 1024);
    const big = outbound(200, {}, Array.from({ length: 64 }, () => chunk));
    const res = toFetchResponse(big, 'GET', 'http://ratings/', false);
    expect((await res.text()).length).to.equal(64 * chunk.length);

    const endless = new Readable({ read() { this.push(Buffer.alloc(16 * 1024)); } });
    const cancelled = toFetchResponse({ statusCode: 200, headers: {}, body: endless as unknown as OutboundResponse['body'] }, 'GET', 'http://ratings/', false);
    const reader = cancelled.body!.getReader();
    await reader.read();
    await reader.cancel();
    expect(endless.destroyed).to.equal(true);
    await new Promise((r) => setImmediate(r)); // late events from the source must not reach the closed stream

    const broken = new Readable({ read() {} });
    const failing = toFetchResponse({ statusCode: 200, headers: {}, body: broken as unknown as OutboundResponse['body'] }, 'GET', 'http://ratings/', false);
    broken.push('partial');
    setImmediate(() => broken.destroy(new Error('connection reset mid-body')));
    const e = await failing.text().catch((err: unknown) => err);
    expect((e as Error).message).to.equal('connection reset mid-body');
  });
});
