// Refused inbound connections, as Envoy logs its resets: a line with the reason, at most one per
// interval (a plaintext client retrying against a STRICT port must not flood the log), and an event
// ('inboundRefused') for whoever watches the mesh.
import type { EventEmitter } from 'node:events';
import type { InboundRefusal } from './inbound-mtls.js';

const LOG_INTERVAL_MS = 10_000;

export class RefusalLog {
  private lastLog = 0;
  private suppressed = 0;

  constructor(private readonly emitter: EventEmitter, private readonly intervalMs = LOG_INTERVAL_MS) {}

  refused(r: InboundRefusal): void {
    this.emitter.emit('inboundRefused', r);
    const now = Date.now();
    if (now - this.lastLog < this.intervalMs) {
      this.suppressed++;
      return;
    }
    const extra = this.suppressed > 0 ? ` (${this.suppressed} more refused since the last line)` : '';
    this.lastLog = now;
    this.suppressed = 0;
    console.warn(`[weft] inbound connection from ${r.remoteAddress} to port ${r.port} closed: ${r.message.replace(/\n/g, ', ')}${extra}`);
  }
}
