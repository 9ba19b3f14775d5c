// Register requests that asked to be told when callers have the change (RegisterEndpoints.request_id):
// a workload deregistering before it stops waits for this, so that no caller still sends to it when
// it stops listening. A confirmation is answered once every session the endpoints update of the
// workload's host was pushed to has ACKed (or NACKed) that update or a later one, or has gone, or
// when the request's deadline passes (the answer then says how many had not answered).

import { MAX_CONFIRM_TIMEOUT_MS } from '@weft/api';

export interface ConfirmationReply {
  requestId: string;
  endpointsVersion: string;
  subscribers: number;
  acked: number;
}

interface Waiting<S> {
  requester: S;
  requestId: string;
  host: string;
  /** The registry version of the push that carried the change; undefined until it is pushed. */
  version: number | undefined;
  pushedTo: number;
  waitingFor: Set<S>;
  timer: NodeJS.Timeout;
  settleTimer: NodeJS.Immediate | undefined;
}


export class PushConfirmations<S> {
  private readonly waits = new Set<Waiting<S>>();

  constructor(private readonly reply: (requester: S, answer: ConfirmationReply) => void) {}

  /**
   * Waits for the next push of `host`. Called right after the registry took the change; the registry
   * pushes in a later tick (coalescing), and a change it did not push (nothing changed for callers)
   * is answered then, with nobody to wait for.
   */
  expect(requester: S, requestId: string, host: string, timeoutMs: number): void {
    const w: Waiting<S> = {
      requester,
      requestId,
      host,
      version: undefined,
      pushedTo: 0,
      waitingFor: new Set(),
      timer: setTimeout(() => this.answer(w), Math.min(Math.max(timeoutMs, 1), MAX_CONFIRM_TIMEOUT_MS)),
      settleTimer: undefined,
    };
    w.timer.unref();
    // The registry flushes on setImmediate; one scheduled after it runs after it.
    w.settleTimer = setImmediate(() => {
      w.settleTimer = undefined;
      if (w.version === undefined) this.answer(w);
    });
    this.waits.add(w);
  }

  /** The endpoints of `hosts` at registry `version` were written to `recipients` (per host). */
  pushed(hosts: readonly string[], version: number, recipientsOf: (host: string) => Iterable<S>): void {
    for (const w of this.waits) {
      if (w.version !== undefined || !hosts.includes(w.host)) continue;
      w.version = version;
      for (const s of recipientsOf(w.host)) if (s !== w.requester) w.waitingFor.add(s);
      w.pushedTo = w.waitingFor.size;
      if (w.waitingFor.size === 0) this.answer(w);
    }
  }

  /** `session` answered an endpoints update of registry version `version` (ACK or NACK). */
  answered(session: S, version: number): void {
    for (const w of this.waits) {
      if (w.version === undefined || version < w.version || !w.waitingFor.delete(session)) continue;
      if (w.waitingFor.size === 0) this.answer(w);
    }
  }

  /** A session ended: it is waited for no more, and what it waited for is dropped. */
  gone(session: S): void {
    for (const w of this.waits) {
      if (w.requester === session) this.drop(w);
      else if (w.waitingFor.delete(session) && w.version !== undefined && w.waitingFor.size === 0) this.answer(w);
    }
  }

  close(): void {
    for (const w of this.waits) this.drop(w);
  }

  get size(): number {
    return this.waits.size;
  }

  private answer(w: Waiting<S>): void {
    if (!this.waits.has(w)) return;
    this.drop(w);
    this.reply(w.requester, {
      requestId: w.requestId,
      endpointsVersion: w.version === undefined ? '' : String(w.version),
      subscribers: w.pushedTo,
      acked: w.pushedTo - w.waitingFor.size,
    });
  }

  private drop(w: Waiting<S>): void {
    this.waits.delete(w);
    clearTimeout(w.timer);
    if (w.settleTimer) clearImmediate(w.settleTimer);
  }
}
