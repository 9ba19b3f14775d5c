// Chaos on Bookinfo (issue 9): weftd and every workload as separate processes, as the demo runs them,
// with the resilience rule set a user would apply (examples/bookinfo/networking/bookinfo-resilience.yaml),
// under steady load on the product page while one ratings instance answers 503 half the time (the
// RATINGS_FAULTY_PERCENT test hook, as Istio's v-faulty image), one reviews instance is killed with
// SIGKILL, and weftd is killed and started again on its ports and data dir. At least 99.9 % of the page
// views must complete: 200, and no "unavailable" anywhere on the page (details, reviews, ratings).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { configRevision, instancesByWorkload, PRODUCT_DETAILS_UNAVAILABLE, PRODUCT_REVIEWS_UNAVAILABLE, RATINGS_UNAVAILABLE, waitForConfig, waitForInstances, weftctlApply } from '@weft/bookinfo';
import { WorkloadProcesses, type WorkloadProcess } from '../support/bookinfo-processes.js';
import { startWeftd, type WeftdHandle } from '../support/weftd.js';

const LOAD_MS = 35_000;
const KILL_REVIEWS_AT_MS = 8_000;
const RESTART_WEFTD_AT_MS = 18_000;
const WORKERS = 4;
const REQUIRED = 0.999;
/** The workloads still running after the kill, as weftd lists them. */
const SURVIVORS = { 'productpage-v1': 1, 'details-v1': 1, 'ratings-v1': 2, 'reviews-v1': 1, 'reviews-v3': 1 };

/** What went wrong with one view, by what the page shows (or the status, or the error). */
function failureOf(status: number, html: string): string | undefined {
  if (status !== 200) return `HTTP ${status}`;
  if (html.includes(PRODUCT_DETAILS_UNAVAILABLE)) return 'details unavailable';
  if (html.includes(PRODUCT_REVIEWS_UNAVAILABLE)) return 'reviews unavailable';
  if (html.includes(RATINGS_UNAVAILABLE)) return 'ratings unavailable';
  if (/unavailable/i.test(html)) return 'other "unavailable" text';
  return undefined;
}

interface LoadResult {
  views: number;
  complete: number;
  /** `<seconds into the load> <what failed>` per failed view. */
  failures: string[];
}

/** WORKERS browsers loading the page one after the other until stop() (or LOAD_MS + 10 s, a bound). */
function pageLoad(pageUrl: string): { startedAt: number; stop(): Promise<LoadResult> } {
  const startedAt = Date.now();
  const result: LoadResult = { views: 0, complete: 0, failures: [] };
  let stopped = false;
  const until = startedAt + LOAD_MS + 10_000;
  const running = Promise.all(
    Array.from({ length: WORKERS }, async () => {
      for (let i = 0; i < 100_000 && !stopped && Date.now() < until; i++) {
        let failure: string | undefined;
        try {
          const res = await fetch(pageUrl, { signal: AbortSignal.timeout(15_000) });
          failure = failureOf(res.status, await res.text());
        } catch (e) {
          failure = `request failed: ${(e as Error).message}`;
        }
        result.views++;
        if (failure === undefined) result.complete++;
        else result.failures.push(`${((Date.now() - startedAt) / 1000).toFixed(1)} s ${failure}`);
      }
    }),
  );
  return {
    startedAt,
    stop: async () => {
      stopped = true;
      await running;
      return result;
    },
  };
}

const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

/** When (seconds into the load) each workload's instances were registered again with the restarted weftd, polled for up to 10 s. */
async function watchReturns(weftd: WeftdHandle, startedAt: number, expected: Record<string, number>): Promise<string> {
  const back = new Map<string, string>();
  const until = Date.now() + 10_000;
  while (back.size < Object.keys(expected).length && Date.now() < until) {
    const now = await instancesByWorkload(weftd).catch(() => new Map<string, number>());
    for (const [name, n] of Object.entries(expected)) {
      if (!back.has(name) && (now.get(name) ?? 0) >= n) back.set(name, ((Date.now() - startedAt) / 1000).toFixed(1));
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return Object.keys(expected).map((name) => `${name} ${back.get(name) ?? 'not'} s`).join(', ');
}

/** reviews' reports of failed ratings calls (the original's "unable to contact" line), counted by what failed. */
function ratingsErrorsOf(processes: WorkloadProcess[]): string {
  const counts = new Map<string, number>();
  for (const p of processes) {
    for (const m of p.output().matchAll(/unable to contact \S+ got (.*)/g)) counts.set(`${p.name}: ${m[1]}`, (counts.get(`${p.name}: ${m[1]}`) ?? 0) + 1);
  }
  return JSON.stringify(Object.fromEntries(counts));
}

describe('Bookinfo chaos: a reviews instance killed, a faulty ratings instance and a weftd restart under load', function () {
  this.timeout(150_000);
  const processes = new WorkloadProcesses();
  let dataDir: string;
  let weftd: WeftdHandle | undefined;
  let byName: Map<string, WorkloadProcess>;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'weft-chaos-'));
    weftd = await startWeftd({ dataDir });
    const w = weftd;
    const started = await Promise.all([
      processes.start(w, 'productpage', 'v1', 'productpage-v1-1'),
      processes.start(w, 'details', 'v1', 'details-v1-1'),
      processes.start(w, 'ratings', 'v1', 'ratings-v1-1'),
      processes.start(w, 'ratings', 'v1', 'ratings-v1-2', { RATINGS_FAULTY_PERCENT: '50' }),
      processes.start(w, 'reviews', 'v1', 'reviews-v1-1'),
      processes.start(w, 'reviews', 'v2', 'reviews-v2-1'),
      processes.start(w, 'reviews', 'v3', 'reviews-v3-1'),
    ]);
    byName = new Map(started.map((p) => [p.name, p]));
    await waitForInstances(w, { 'productpage-v1': 1, 'details-v1': 1, 'ratings-v1': 2, 'reviews-v1': 1, 'reviews-v2': 1, 'reviews-v3': 1 }, { timeoutMs: 20_000 });
    // The rule set as a user applies it, acknowledged by every workload before the load.
    await weftctlApply(w, ['bookinfo-resilience.yaml']);
    await waitForConfig(w, await configRevision(w), ['productpage', 'details', 'reviews', 'ratings'], { timeoutMs: 15_000 });
  });

  after(async () => {
    await processes.stopAll();
    await weftd?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('at least 99.9 % of productpage views complete, with the resilience rule set applied', async () => {
    // The faulty instance is faulty: asked directly (plaintext is allowed, PERMISSIVE), about half its answers are 503.
    let direct503 = 0;
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${byName.get('ratings-v1-2')!.url}/ratings/0`, { signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      if (res.status === 503) direct503++;
    }
    expect(direct503, 'ratings-v1-2 answered 503 this many times of 40').to.be.within(6, 34);

    const load = pageLoad(`${byName.get('productpage-v1-1')!.url}/productpage`);
    await sleepUntil(load.startedAt + KILL_REVIEWS_AT_MS);
    const reviews = byName.get('reviews-v2-1')!;
    await reviews.kill('SIGKILL');
    expect(reviews.proc.signalCode).to.equal('SIGKILL');

    await sleepUntil(load.startedAt + RESTART_WEFTD_AT_MS);
    const old = weftd!;
    const grpcPort = old.grpcAddress.split(':').pop()!;
    const adminPort = new URL(old.adminUrl).port;
    await old.kill('SIGKILL');
    weftd = await startWeftd({ dataDir, args: ['--port', grpcPort, '--admin-port', adminPort] });
    expect(weftd.grpcAddress).to.equal(old.grpcAddress);
    const weftdBackAt = ((Date.now() - load.startedAt) / 1000).toFixed(1);
    const returns = watchReturns(weftd, load.startedAt, SURVIVORS);

    await sleepUntil(load.startedAt + LOAD_MS);
    const result = await load.stop();
    const share = result.complete / result.views;
    const kinds = new Map<string, number>();
    for (const f of result.failures) {
      const kind = f.replace(/^[\d.]+ s /, '');
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    const figures =
      `${result.complete} of ${result.views} views complete (${(share * 100).toFixed(3)} %) in ${LOAD_MS / 1000} s with ${WORKERS} browsers; ` +
      `failures by kind: ${JSON.stringify(Object.fromEntries(kinds))}; first failures: ${result.failures.slice(0, 10).join('; ') || 'none'}; ` +
      `reviews-v2 killed at ${KILL_REVIEWS_AT_MS / 1000} s; weftd killed at ${RESTART_WEFTD_AT_MS / 1000} s, back at ${weftdBackAt} s; ` +
      `registered again: ${await returns}; reviews' failed ratings calls: ${ratingsErrorsOf([...byName.values()].filter((p) => p.name.startsWith('reviews')))}`;
    console.log(`      chaos: ${figures}`);
    expect(result.views, figures).to.be.at.least(300);
    expect(share, figures).to.be.at.least(REQUIRED);

    // The mesh came back whole: every workload still running registered with the restarted weftd.
    await waitForInstances(weftd, SURVIVORS, { timeoutMs: 20_000 });
  });
});
