// The connection-pool limits' counting: Envoy's order of decisions, the pending line (FIFO, bounded,
// left by callers who give up) and the overflow count.
import { expect } from 'chai';
import { compileConnectionPool } from '../config/compile-traffic-policy.js';
import { ConnectionLimiter } from './connection-limiter.js';

const limiter = (cp: Parameters<typeof compileConnectionPool>[0]) => new ConnectionLimiter(compileConnectionPool(cp, 'test'));

describe('ConnectionLimiter', () => {
  it("lets maxConnections through, lines up http1MaxPendingRequests, refuses the rest (the circuit-breaking task's 1 and 1)", async () => {
    const l = limiter({ tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } });
    expect(l.admit()).to.equal('go');
    expect(l.admit()).to.equal('wait');
    const waiting = l.wait(undefined);
    expect(l.pending).to.equal(1);
    expect(l.admit()).to.equal('overflow');
    expect(l.overflows).to.equal(1);
    l.release(); // the waiter takes the connection
    await waiting;
    expect([l.active, l.pending]).to.deep.equal([1, 0]);
    l.release();
    expect(l.active).to.equal(0);
  });

  it('refuses beyond http2MaxRequests at once, without a line', () => {
    const l = limiter({ http: { http2MaxRequests: 2, http1MaxPendingRequests: 10 } });
    expect([l.admit(), l.admit(), l.admit()]).to.deep.equal(['go', 'go', 'overflow']);
  });

  it('serves the line first in, first out, and drops a waiter whose signal aborts', async () => {
    const l = limiter({ tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 3 } });
    l.admit();
    const order: string[] = [];
    const ac = new AbortController();
    const a = l.wait(undefined).then(() => order.push('a'));
    const b = l.wait(ac.signal).then(() => order.push('b'), (e: unknown) => order.push(`b aborted: ${(e as Error).message}`));
    const c = l.wait(undefined).then(() => order.push('c'));
    ac.abort(new Error('gave up'));
    await b;
    expect(l.pending).to.equal(2);
    l.release();
    await a;
    l.release();
    await c;
    expect(order).to.deep.equal(['b aborted: gave up', 'a', 'c']);
    expect(l.active).to.equal(1);
    // An aborted signal never joins the line.
    const gone = new AbortController();
    gone.abort(new Error('already'));
    const e = await l.wait(gone.signal).catch((x: unknown) => x);
    expect((e as Error).message).to.equal('already');
  });

  it('keeps no entries of many callers who gave up', async () => {
    const l = limiter({ tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1000 } });
    l.admit();
    for (let i = 0; i < 500; i++) {
      const ac = new AbortController();
      const p = l.wait(ac.signal).catch(() => undefined);
      ac.abort();
      await p;
    }
    expect(l.pending).to.equal(0);
    expect((l as unknown as { queue: unknown[] }).queue.length).to.be.below(100);
  });

  it("compiles Istio's defaults: unlimited counts, 10 s connect timeout, undici's own pools", () => {
    const cp = compileConnectionPool({ http: { idleTimeout: '90s' } }, 'x');
    expect(cp).to.include({ maxConnections: Infinity, maxPendingRequests: Infinity, maxRequests: Infinity, maxRequestsPerConnection: 0, connectTimeoutMs: 10_000, idleTimeoutMs: 90_000, poolKey: 'i90000' });
    expect(compileConnectionPool({ tcp: { maxConnections: 0, idleTimeout: '1h' } }, 'x')).to.include({ maxConnections: Infinity, idleTimeoutMs: 3_600_000 });
    expect(compileConnectionPool({ tcp: {} }, 'x').poolKey).to.equal('');
  });
});
