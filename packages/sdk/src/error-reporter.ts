// Background failures (a malformed push, a failed write) must never crash the application: they go
// to the mesh's 'error' event when someone listens, else to console.warn at most once per interval.
import type { EventEmitter } from 'node:events';

const WARN_INTERVAL_MS = 10_000;

export class ErrorReporter {
  private lastWarn = 0;
  private suppressed = 0;

  constructor(private readonly emitter: EventEmitter) {}

  report(e: unknown): void {
    if (this.emitter.listenerCount('error') > 0) {
      this.emitter.emit('error', e);
      return;
    }
    const now = Date.now();
    if (now - this.lastWarn < WARN_INTERVAL_MS) {
      this.suppressed++;
      return;
    }
    const extra = this.suppressed > 0 ? ` (${this.suppressed} similar errors suppressed)` : '';
    this.lastWarn = now;
    this.suppressed = 0;
    console.warn(`[weft] background error${extra}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
