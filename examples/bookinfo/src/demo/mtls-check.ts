// The demo's proof that the calls behind the page are mTLS, once PeerAuthentication STRICT is in force
// for details, reviews and ratings: the page still has every part (so productpage → details/reviews and
// reviews → ratings got through STRICT, which only mTLS does), a plaintext call of our own to details
// is refused, and details and ratings name the verified identity of the workload that called them.
import { RATINGS_UNAVAILABLE } from '../reviews.js';
import type { PhaseContext, PhaseReport } from './phases.js';

const PRINCIPAL = (serviceAccount: string) => `cluster.local/ns/default/sa/${serviceAccount}`;
/** What workload.ts logs the first time a caller with a certificate calls it. */
const MTLS_CALLER = /first request from (\S+) over mTLS/;
/** The SDK's log line for a refused plaintext connection (at most one per 10 s, so it may be missing). */
const REFUSED_LINE = /inbound connection from \S+ to port \d+ closed: (plaintext connection refused: [^\n]*)/;

/** What each callee must have seen: its caller's principal, from the caller's certificate. */
const EXPECTED_CALLERS: ReadonlyArray<{ callee: string; caller: string }> = [
  { callee: 'details-v1', caller: PRINCIPAL('bookinfo-productpage') },
  { callee: 'ratings-v1', caller: PRINCIPAL('bookinfo-reviews') },
];

export async function checkStrictMtls(ctx: PhaseContext): Promise<PhaseReport> {
  const lines: string[] = [];
  const problems: string[] = [];

  const page = await ctx.page();
  const missing = [
    page.includes('Error fetching product details!') && 'details',
    page.includes('Error fetching product reviews!') && 'reviews',
    page.includes(RATINGS_UNAVAILABLE) && 'ratings',
    !page.includes('of 5 stars') && 'stars',
  ].filter(Boolean);
  if (missing.length) problems.push(`the page lacks ${missing.join(', ')} under STRICT: those calls were not mTLS`);
  else lines.push('the page has details, reviews and stars: every call behind it passed STRICT, so every one was mTLS');

  const callers: string[] = [];
  for (const { callee, caller } of EXPECTED_CALLERS) {
    const seen = (await ctx.output(callee, MTLS_CALLER, 2_000))?.[1];
    if (seen === caller) callers.push(`${callee} by ${caller}`);
    else problems.push(`${callee} saw no mTLS caller ${caller}${seen ? ` (it saw ${seen})` : ''}`);
  }
  if (callers.length) lines.push(`callers' certificates: ${callers.join(', ')}`);

  const details = `${ctx.url('details-v1')}/details/0`;
  let status: string;
  try {
    const res = await fetch(details, { signal: AbortSignal.timeout(5_000) });
    await res.body?.cancel();
    status = `HTTP ${res.status}`;
  } catch {
    status = 'refused';
  }
  if (status !== 'refused') problems.push(`details-v1 answered a plaintext GET ${details} (${status}): STRICT is not in force`);
  else {
    const logged = (await ctx.output('details-v1', REFUSED_LINE, 2_000))?.[1];
    lines.push(`a plaintext GET ${details} (no certificate) is refused${logged ? `; details-v1 logs: ${logged}` : ''}`);
  }
  return { lines, ...(problems.length ? { problem: problems.join('; ') } : {}) };
}
