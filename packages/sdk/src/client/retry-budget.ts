// The retry budget of one destination service, as Linkerd's and Finagle's: retries may add at most
// `ratio` of the requests sent in the last `windowMs`, plus a reserve of `minPerSecond` × the window so
// that light traffic can still retry (Linkerd's ServiceProfile default: retryRatio 0.2, minRetriesPerSecond
// 10, ttl 10 s). Every first attempt deposits `ratio`; every retry withdraws 1; both expire with the
// window, so a failure storm that is all retries empties the budget and then only new traffic refills it.
// This counts retries, not their concurrency: a cap on concurrent retries alone does not stop a storm
// when failures are fast (those caps are Istio's DestinationRule fields, retry-concurrency.ts).
//
// Why per destination service (the route's destination host) and not per cluster or per mesh: retries
// add load to the service whatever subset they go to (subsets usually share the service's backing store),
// so per subset would let each subset add its own 20 %; per mesh, one failing service would spend the
// budget of every healthy one and stop their retries. Linkerd keys its budget the same way (per
// ServiceProfile, i.e. per destination service).
//
// cockatiel has no budget of this kind (its retry policy counts attempts per call only), so it is written
// here: a ring of 10 slots over the window, advanced lazily on use (no timer).

export interface RetryBudgetSettings {
  /** Retries allowed as a fraction of the window's first attempts. Default 0.2. */
  ratio: number;
  /** Retries allowed per second of window whatever the traffic. Default 10. */
  minPerSecond: number;
  /** The window over which requests and retries are counted. Default 10000. */
  windowMs: number;
}

export const DEFAULT_RETRY_BUDGET: Readonly<RetryBudgetSettings> = Object.freeze({ ratio: 0.2, minPerSecond: 10, windowMs: 10_000 });

const SLOTS = 10;

export class RetryBudget {
  private readonly slotMs: number;
  private readonly reserve: number;
  private readonly deposits = new Float64Array(SLOTS);
  private readonly withdrawals = new Float64Array(SLOTS);
  private deposited = 0;
  private withdrawn = 0;
  /** The slot number (time / slotMs) the ring's current slot stands for. */
  private epoch: number;

  constructor(
    private readonly settings: Readonly<RetryBudgetSettings>,
    private readonly now: () => number = Date.now,
  ) {
    this.slotMs = Math.max(1, settings.windowMs / SLOTS);
    this.reserve = settings.minPerSecond * (settings.windowMs / 1000);
    this.epoch = Math.floor(now() / this.slotMs);
  }

  /** Records a first attempt. */
  deposit(): void {
    const i = this.advance();
    this.deposits[i]! += 1;
    this.deposited += 1;
  }

  /** Takes one retry from the budget; false when it is spent (the retry must not be sent). */
  tryWithdraw(): boolean {
    const i = this.advance();
    if (this.reserve + this.settings.ratio * this.deposited - this.withdrawn < 1) return false;
    this.withdrawals[i]! += 1;
    this.withdrawn += 1;
    return true;
  }

  /** Retries the budget would allow now (for tests and stats). */
  available(): number {
    this.advance();
    return Math.max(0, Math.floor(this.reserve + this.settings.ratio * this.deposited - this.withdrawn));
  }

  /** Clears the slots that left the window since the last use; returns the current slot's index. */
  private advance(): number {
    const epoch = Math.floor(this.now() / this.slotMs);
    const gap = Math.min(SLOTS, epoch - this.epoch);
    for (let k = 1; k <= gap; k++) {
      const i = (this.epoch + k) % SLOTS;
      this.deposited -= this.deposits[i]!;
      this.withdrawn -= this.withdrawals[i]!;
      this.deposits[i] = 0;
      this.withdrawals[i] = 0;
    }
    if (gap > 0) this.epoch = epoch;
    return this.epoch % SLOTS;
  }
}
