// Which of one session's NACKs weftd writes to its log. A NACK is worth a line, but a client that
// NACKs in a loop must not fill the log (one did: 2 MB from one client) nor weftd's memory: the first
// `burst` distinct NACKs of each interval get a line each, later ones are counted and reported in one
// summary line (at the next NACK after the interval, or when the session ends), and the NACKs
// remembered for recognising repeats are a bounded set of digests.
import { createHash } from 'node:crypto';

export interface NackLogOptions {
  /** Distinct NACKs logged per interval before the rest are only counted. */
  burst: number;
  intervalMs: number;
  /** How many distinct NACKs are remembered to recognise repeats (oldest forgotten first). */
  remembered: number;
  now?: () => number;
}

export const DEFAULT_NACK_LOG: NackLogOptions = { burst: 5, intervalMs: 60_000, remembered: 32 };

export class NackLog {
  private readonly seen = new Set<string>();
  private readonly now: () => number;
  private windowStartMs: number;
  private loggedInWindow = 0;
  private suppressed = 0;
  private lastSuppressed = '';

  constructor(private readonly options: NackLogOptions = DEFAULT_NACK_LOG) {
    this.now = options.now ?? Date.now;
    this.windowStartMs = this.now();
  }

  /**
   * Records a NACK identified by `key` and returns the lines to log now (none for a repeat of a
   * remembered NACK). `line` builds the NACK's own line, only when it is logged.
   */
  record(key: string, line: () => string): string[] {
    const out: string[] = [];
    const now = this.now();
    if (now - this.windowStartMs >= this.options.intervalMs) {
      const summary = this.summary();
      if (summary) out.push(summary);
      this.windowStartMs = now;
      this.loggedInWindow = 0;
    }
    const digest = createHash('sha256').update(key).digest('base64');
    if (this.seen.has(digest)) return out;
    this.seen.add(digest);
    if (this.seen.size > this.options.remembered) this.seen.delete(this.seen.values().next().value!);
    if (this.loggedInWindow < this.options.burst) {
      this.loggedInWindow++;
      out.push(line());
    } else {
      this.suppressed++;
      this.lastSuppressed = line();
    }
    return out;
  }

  /** The summary of NACKs counted but not logged since the last summary (undefined: none). */
  summary(): string | undefined {
    if (this.suppressed === 0) return undefined;
    const seconds = Math.max(1, Math.round((this.now() - this.windowStartMs) / 1000));
    const text = `${this.suppressed} more distinct NACK${this.suppressed === 1 ? '' : 's'} not logged in the last ${seconds} s (at most ${this.options.burst} are logged per ${this.options.intervalMs / 1000} s); the last: ${this.lastSuppressed}`;
    this.suppressed = 0;
    this.lastSuppressed = '';
    return text;
  }
}
