// The connection-pool limits of one cluster (DestinationRule connectionPool): Envoy's circuit breakers,
// counted here because undici's Pool counts per origin and queues without bound. Written by hand:
// cockatiel's bulkhead has a queue with a cap but no separate cap on requests in flight beyond the
// connections, and its rejections are not Envoy's. As Envoy's HTTP/1.1 pool decides a new request:
//   1. a connection is free (fewer than maxConnections busy): it goes, unless maxRequests (Istio's
//      http2MaxRequests, which applies to HTTP/1.1 too) are already in flight: overflow;
//   2. else it waits for a connection, FIFO, if fewer than maxPendingRequests (http1MaxPendingRequests)
//      wait already; else overflow.
// Overflow fails at once (503, flag UO); nothing waits beyond the pending cap, and a waiting request
// whose caller gives up (its signal aborts) leaves the queue. Connections are counted while busy with a
// request (HTTP/1.1 carries one at a time), for the whole cluster; idle keep-alive connections do not
// hold the limit. Pure counting, nothing HTTP about it.
import type { ConnectionPoolLimits } from '../config/traffic-policy.js';

export type Admission = 'go' | 'wait' | 'overflow';

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  done: boolean;
}

export class ConnectionLimiter {
  /** Requests holding a connection. */
  active = 0;
  /** Requests refused (Envoy's upstream_rq_pending_overflow). */
  overflows = 0;
  private readonly queue: Waiter[] = [];
  private head = 0;
  private waitingCount = 0;
  /** Entries of `queue` whose caller gave up: skipped, and dropped once they are many. */
  private abandoned = 0;

  constructor(readonly limits: ConnectionPoolLimits) {}

  /** Requests waiting for a connection. */
  get pending(): number {
    return this.waitingCount;
  }

  /** Takes a connection at once ('go': release() it later), or says to wait() or that it overflows. */
  admit(): Admission {
    const l = this.limits;
    if (this.active < l.maxConnections) {
      if (this.active >= l.maxRequests) return this.overflow();
      this.active++;
      return 'go';
    }
    if (this.waitingCount < l.maxPendingRequests) return 'wait';
    return this.overflow();
  }

  /**
   * Waits, in line, for a connection (after admit() said 'wait'); resolves holding it. Rejects with the
   * signal's reason when the caller gives up first.
   */
  wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const w: Waiter = { resolve, reject, signal, onAbort: undefined, done: false };
      if (signal) {
        w.onAbort = () => {
          if (w.done) return;
          w.done = true;
          this.waitingCount--;
          if (++this.abandoned > 64 && this.abandoned > this.waitingCount) this.compact();
          reject(signal.reason);
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.queue.push(w);
      this.waitingCount++;
    });
  }

  /** Gives a connection back; the first waiter in line takes it. */
  release(): void {
    this.active--;
    while (this.head < this.queue.length && this.active < this.limits.maxConnections) {
      const w = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as Waiter;
      if (w.done) {
        this.abandoned--;
        continue;
      }
      w.done = true;
      this.waitingCount--;
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      this.active++;
      w.resolve();
    }
    if (this.head > 64 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Drops the entries of callers who gave up (a hung upstream and callers with deadlines would pile them up). */
  private compact(): void {
    const live = this.queue.slice(this.head).filter((w) => !w.done);
    this.queue.length = 0;
    this.queue.push(...live);
    this.head = 0;
    this.abandoned = 0;
  }

  private overflow(): 'overflow' {
    this.overflows++;
    return 'overflow';
  }
}
