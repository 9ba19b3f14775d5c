// A cheap abort signal for the deadlines the pipeline sets on every request (the route timeout, each
// perTryTimeout). Node's AbortController is an EventTarget; creating one per request and handing its
// signal to undici (which listens on it and stops listening when the response ends) cost a third of the
// throughput of a keep-alive loopback call (bench --only pipeline, docs/performance.md). This one is an
// EventEmitter with the part of AbortSignal's surface that undici and the stages use: `aborted`,
// `reason`, `addEventListener`/`removeEventListener` ('abort' only, `once` honoured) and
// `throwIfAborted`. It travels as `req.signal` (typed AbortSignal, which it stands in for).
import { EventEmitter } from 'node:events';

type Listener = (this: unknown, ev?: unknown) => void;

export class CallSignal extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  onabort: Listener | null = null;

  addEventListener(type: string, listener: Listener, options?: boolean | { once?: boolean }): void {
    if (type !== 'abort') return;
    if (typeof options === 'object' && options?.once) this.once('abort', listener);
    else this.on('abort', listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    if (type === 'abort') this.off('abort', listener);
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  /** As an AbortSignal, for the request's `signal` field. */
  asAbortSignal(): AbortSignal {
    return this as unknown as AbortSignal;
  }
}

export class CallAbortController {
  readonly signal = new CallSignal();

  abort(reason?: unknown): void {
    const s = this.signal;
    if (s.aborted) return;
    s.aborted = true;
    s.reason = reason ?? new DOMException('This operation was aborted', 'AbortError');
    s.emit('abort', { type: 'abort' });
    s.onabort?.call(s, { type: 'abort' });
  }
}
