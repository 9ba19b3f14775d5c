// The demo's phases: Istio's traffic-management tasks in order, then mTLS STRICT (the end of Istio's
// mTLS migration task), then mirroring and fault injection, each with the files it applies and a check
// that says when the traffic it produced is clearly wrong. The fault phase undoes itself afterwards, so
// the demo keeps running with the routing of phase 4 (v2 for jason, v1 for everyone else).
import { checkStrictMtls } from './mtls-check.js';
import type { TrafficResult } from './traffic.js';

export const VERSIONS = ['v1', 'v2', 'v3'] as const;

export interface Phase {
  title: string;
  /** Networking files applied before the traffic (in order, as one weftctl apply). */
  apply: string[];
  /** Log in as this user first (productpage then sends `end-user`). */
  user?: string;
  /** The services whose every session must ACK the files before the traffic (default: productpage and reviews). */
  configuredBy?: string[];
  /** Why the outcome is clearly wrong, or undefined if it looks right. */
  check(result: TrafficResult): string | undefined;
  /** A check beyond the traffic table, after it: lines to print, and a problem if it failed. */
  verify?(ctx: PhaseContext): Promise<PhaseReport>;
  /** Files applied after the checks, in order (one weftctl apply each), to take back what the phase broke on purpose. */
  restore?: string[];
}

/** What a phase's verify can look at. */
export interface PhaseContext {
  /** Where a workload listens, by workload name (`details-v1`): its first instance. */
  url(workloadName: string): string;
  /** One product page as the phase's traffic asked for it (same user). */
  page(): Promise<string>;
  /** The first match of `pattern` in the output of any instance of the workload, waiting up to timeoutMs; undefined if none. */
  output(workloadName: string, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray | undefined>;
}

export interface PhaseReport {
  lines: string[];
  problem?: string;
}

function share(result: TrafficResult, version: string): number {
  return result.total ? (result.byVersion.get(version) ?? 0) / result.total : 0;
}

function onlyVersions(result: TrafficResult, allowed: readonly string[]): string | undefined {
  const other = [...result.byVersion.keys()].filter((v) => !allowed.includes(v));
  return other.length ? `expected only ${allowed.join('/')}, also got ${other.join(', ')}` : undefined;
}

export const PHASES: Phase[] = [
  {
    title: 'No routing rules: reviews requests spread over v1, v2 and v3',
    apply: [],
    check: (r) => (r.total >= 30 && r.byVersion.size < 2 ? 'expected more than one reviews version without rules' : onlyVersions(r, VERSIONS)),
  },
  {
    title: 'Route everything to v1 (destination-rule-all + virtual-service-all-v1)',
    apply: ['destination-rule-all.yaml', 'virtual-service-all-v1.yaml'],
    check: (r) => onlyVersions(r, ['v1']),
  },
  {
    title: 'Shift 50 % of reviews traffic to v3 (virtual-service-reviews-50-v3)',
    apply: ['virtual-service-reviews-50-v3.yaml'],
    check: (r) => onlyVersions(r, ['v1', 'v3']) ?? (r.total >= 40 && (share(r, 'v1') < 0.25 || share(r, 'v3') < 0.25) ? 'split is far from 50/50' : undefined),
  },
  {
    title: 'Logged in as jason: v2 for jason, v1 for everyone else (virtual-service-reviews-test-v2)',
    apply: ['virtual-service-reviews-test-v2.yaml'],
    user: 'jason',
    check: (r) => onlyVersions(r, ['v2']),
  },
  {
    title: 'mTLS STRICT for namespace default, productpage PERMISSIVE for the browser (peer-authentication-strict + -productpage-permissive)',
    // productpage's exception first, so the browser's plaintext is never refused on the way.
    apply: ['peer-authentication-productpage-permissive.yaml', 'peer-authentication-strict.yaml'],
    configuredBy: ['productpage', 'details', 'reviews', 'ratings'],
    user: 'jason',
    check: (r) => onlyVersions(r, ['v2']),
    verify: checkStrictMtls,
  },
  {
    title: 'Mirroring: every reviews call goes to v1 and a copy of it to v2 (virtual-service-reviews-v1-mirror-v2)',
    apply: ['virtual-service-reviews-v1-mirror-v2.yaml'],
    check: (r) => onlyVersions(r, ['v1']),
    verify: checkMirrored,
  },
  {
    title: 'Fault injection: ratings calls for jason abort with HTTP 500 (virtual-service-reviews-test-v2 + virtual-service-ratings-test-abort)',
    apply: ['virtual-service-reviews-test-v2.yaml', 'virtual-service-ratings-test-abort.yaml'],
    user: 'jason',
    check: (r) =>
      onlyVersions(r, ['v2']) ??
      (r.ratingsUnavailable !== r.total ? `expected "Ratings service is currently unavailable" on every page, got it on ${r.ratingsUnavailable} of ${r.total}` : undefined),
    restore: ['virtual-service-all-v1.yaml', 'virtual-service-reviews-test-v2.yaml'],
  },
];

/** What workload.ts logs the first time a mirrored copy (Host `<service>-shadow`) reaches it. */
const FIRST_MIRRORED = /first mirrored request \(Host (\S+)\)/;

/** reviews v2 got copies (the page showed v1 only: the phase's check): it logs the first, with its -shadow Host. */
async function checkMirrored(ctx: PhaseContext): Promise<PhaseReport> {
  const host = (await ctx.output('reviews-v2', FIRST_MIRRORED, 5_000))?.[1];
  if (!host) return { lines: [], problem: 'reviews-v2 got no mirrored copy' };
  return { lines: [`reviews-v2 got the copies (first with Host ${host}); their answers were dropped, so no page shows v2`] };
}
