// Root rotation (weftctl ca rotate), in the order that lets no request fail:
//  1. A new root joins the trust bundle without signing; weftd pushes the bundle to every session and
//     waits until each one ACKed it (or --rotation-wait passed: a session that did not answer by then
//     is logged, and gets the bundle with its next Welcome). From then on every workload accepts
//     certificates of both roots.
//  2. The new root signs. weftd re-issues its own certificate and pushes the bundle again with `renew`:
//     every workload renews at once, and a renewal is signed by the new root.
//  3. The old root stays in the bundle until the last certificate it signed has expired, then it is
//     dropped and the bundle pushed once more. That step is timed here from the bundle's issuedUntil.
// The state is the CA directory's own (a pending root survives a restart, and weftd completes the
// rotation when it starts again).
import type { SessionServer } from '../session/session-server.js';
import type { MeshCa } from './mesh-ca.js';

export interface RootRotationOptions {
  /** How long step 1 waits for the sessions' ACKs. */
  waitMs: number;
  log: (message: string) => void;
  /** Poll interval while waiting for ACKs. Default 50 ms. */
  pollMs?: number;
}

export class RootRotation {
  private running: Promise<void> | undefined;
  private retireTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly ca: MeshCa,
    private readonly sessions: SessionServer,
    private readonly opts: RootRotationOptions,
  ) {
    ca.onBundleChange(() => this.scheduleRetirement());
    this.scheduleRetirement();
  }

  /** Completes a rotation a previous weftd began (call once the session server listens). */
  resume(): void {
    if (this.ca.rotationPending) void this.rotate().catch((e: unknown) => this.opts.log(`completing the root rotation begun before the restart failed: ${(e as Error).message}`));
  }

  /** Steps 1 and 2; resolves once the new root signs. A rotation in progress is joined, not started twice. */
  rotate(): Promise<void> {
    return (this.running ??= this.run().finally(() => (this.running = undefined)));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retireTimer);
  }

  private async run(): Promise<void> {
    const bundle = await this.ca.beginRotation();
    const pending = bundle.pending;
    this.opts.log(`root rotation: new root ${pending?.certificate.fingerprint.slice(0, 16) ?? '?'} added to the trust bundle (version ${bundle.version}); waiting for the workloads to hold it`);
    const behind = await this.waitForAcks(bundle.version);
    if (behind.length > 0) {
      const shown = behind.slice(0, 5).map((s) => `${s.instanceId} (${s.service}.${s.namespace})`).join(', ');
      this.opts.log(`root rotation: ${behind.length} session(s) did not ACK bundle version ${bundle.version} within ${this.opts.waitMs} ms (${shown}${behind.length > 5 ? ', ...' : ''}); going on: they get it with their next Welcome`);
    }
    const done = await this.ca.completeRotation();
    this.opts.log(`root rotation: the new root signs (bundle version ${done.version}); workloads renew now, and the old root stays until its last certificate expires`);
  }

  private async waitForAcks(version: number): Promise<ReturnType<SessionServer['sessionsBehindBundle']>> {
    const deadline = Date.now() + this.opts.waitMs;
    const poll = this.opts.pollMs ?? 50;
    for (let i = 0; ; i++) {
      const behind = this.sessions.sessionsBehindBundle(version);
      if (behind.length === 0 || Date.now() >= deadline || this.closed) return behind;
      await new Promise((r) => setTimeout(r, Math.min(poll, Math.max(1, deadline - Date.now()))));
    }
  }

  /** Step 3: drops the old roots when the last certificate each signed has expired. */
  private scheduleRetirement(): void {
    clearTimeout(this.retireTimer);
    if (this.closed) return;
    const due = this.ca.bundle.nextRetirement();
    if (!due) return;
    const ms = Math.max(0, due.getTime() - Date.now()) + 1000; // issuedUntil is in whole seconds
    this.retireTimer = setTimeout(() => {
      this.ca
        .prune()
        .then((n) => {
          if (n > 0) this.opts.log(`root rotation: ${n} old root(s) dropped from the trust bundle (version ${this.ca.bundle.version}): every certificate they signed has expired`);
          else this.scheduleRetirement();
        })
        .catch((e: unknown) => {
          this.opts.log(`dropping an old root failed: ${(e as Error).message}; trying again in a minute`);
          this.retireTimer = setTimeout(() => this.scheduleRetirement(), 60_000);
          this.retireTimer.unref();
        });
    }, Math.min(ms, 2 ** 31 - 1));
    this.retireTimer.unref();
  }
}
