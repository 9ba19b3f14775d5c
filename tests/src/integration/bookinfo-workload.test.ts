// The workload entry point as a real process: with its join token (WEFT_TOKEN) it gets its identity,
// registers, serves, and on SIGTERM deregisters and exits 0; reviews then reports ratings as
// unavailable, as Istio's reviews does. Without a token it does not start, and says what to do.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { instancesByWorkload, pollUntil, startReviews, waitForInstances, type RunningWorkload } from '@weft/bookinfo';
import { startWeftd, type WeftdHandle } from '../support/weftd.js';
import { bookinfoToken } from '../support/bookinfo.js';

const WORKLOAD_BIN = fileURLToPath(new URL('../../../examples/bookinfo/dist/workload.js', import.meta.url));

/** The exit code once the process has exited and its output streams are drained ('close', not 'exit'). */
function exitOf(proc: ChildProcess): Promise<number | null> {
  if ((proc.exitCode !== null || proc.signalCode !== null) && proc.stdout?.readableEnded !== false && proc.stderr?.readableEnded !== false) {
    return Promise.resolve(proc.exitCode);
  }
  return new Promise((resolve) => proc.once('close', (code) => resolve(code)));
}

describe('Bookinfo workload process', function () {
  this.timeout(60_000);
  let weftd: WeftdHandle;
  let ratings: ChildProcess | undefined;
  let reviews: RunningWorkload | undefined;

  before(async () => {
    weftd = await startWeftd();
  });

  afterEach(async () => {
    if (ratings && ratings.exitCode === null && ratings.signalCode === null) {
      ratings.kill('SIGKILL');
      await exitOf(ratings);
    }
    ratings = undefined;
    await reviews?.close();
    reviews = undefined;
  });

  after(async () => {
    await weftd?.stop();
  });

  it('registers with its identity, serves ratings to reviews v3 over mTLS, and deregisters on SIGTERM', async () => {
    ratings = spawn(process.execPath, [WORKLOAD_BIN, 'ratings', '--version', 'v1'], {
      env: { ...process.env, WEFT_CONTROL_PLANE: weftd.grpcAddress, WEFT_TOKEN: await bookinfoToken(weftd, 'ratings') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    ratings.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    ratings.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const [, listening, identity] = await pollUntil(async () => /ratings-v1 listening on (http:\/\/127\.0\.0\.1:\d+) as (\S+)/.exec(out) ?? undefined, () => `no listening line in:\n${out}`, {
      timeoutMs: 15_000,
    });
    expect(identity).to.equal('spiffe://cluster.local/ns/default/sa/bookinfo-ratings');
    expect(await (await fetch(`${listening}/ratings/1`)).json()).to.deep.equal({ id: 1, ratings: { Reviewer1: 5, Reviewer2: 4 } });

    reviews = await startReviews({ controlPlane: weftd.grpcAddress, version: 'v3', token: await bookinfoToken(weftd, 'reviews'), env: { HOSTNAME: 'reviews-v3-proc' } });
    await waitForInstances(weftd, { 'ratings-v1': 1, 'reviews-v3': 1 }, { timeoutMs: 15_000 });
    const before = (await (await fetch(`${reviews.url}/reviews/0`)).json()) as { reviews: Array<{ rating: unknown }> };
    expect(before.reviews[0]!.rating).to.deep.equal({ stars: 5, color: 'red' });
    // Our plaintext GET of /ratings/1 came first, then reviews v3 over mTLS, named by its certificate.
    await pollUntil(async () => (/ratings-v1: first request from cluster\.local\/ns\/default\/sa\/bookinfo-reviews over mTLS/.test(out) ? true : undefined), () => `no mTLS caller line in:\n${out}`, {
      timeoutMs: 5_000,
    });
    expect(out).to.contain('ratings-v1: first request in plaintext (no client certificate)');

    ratings.kill('SIGTERM');
    expect(await exitOf(ratings)).to.equal(0);
    // Deregistered on close, not after the liveness grace: gone at once from weftd's view.
    await pollUntil(async () => ((await instancesByWorkload(weftd)).has('ratings-v1') ? undefined : true), () => 'ratings-v1 still registered', {
      timeoutMs: 2_000,
    });
    const after = await pollUntil(
      async () => {
        const body = (await (await fetch(`${reviews!.url}/reviews/0`)).json()) as { reviews: Array<{ rating: unknown }> };
        return 'error' in (body.reviews[0]!.rating as object) ? body : undefined;
      },
      () => 'reviews still shows stars after ratings left',
      { timeoutMs: 5_000 },
    );
    expect(after.reviews.map((r) => r.rating)).to.deep.equal([
      { error: 'Ratings service is currently unavailable' },
      { error: 'Ratings service is currently unavailable' },
    ]);
  });

  it('exits 2 with a clear message for a bad service or version', async () => {
    for (const [args, message] of [
      [['reviews', '--version', 'v9'], 'reviews --version must be one of v1, v2, v3, got "v9"'],
      [['inventory'], 'unknown service "inventory"'],
      [['details', '--port', 'x'], '--port must be an integer'],
    ] as const) {
      const proc = spawn(process.execPath, [WORKLOAD_BIN, ...args], { env: { ...process.env, WEFT_CONTROL_PLANE: weftd.grpcAddress }, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      expect(await exitOf(proc), args.join(' ')).to.equal(2);
      expect(err).to.contain(message);
    }
  });

  it('exits 2 without a join token, naming the identity it needs and the command that makes one', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, WEFT_CONTROL_PLANE: weftd.grpcAddress };
    delete env.WEFT_TOKEN;
    const proc = spawn(process.execPath, [WORKLOAD_BIN, 'details'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    expect(await exitOf(proc)).to.equal(2);
    expect(err).to.contain('no join token: a workload serves, so it needs its identity (namespace default, service account bookinfo-details)');
    expect(err).to.contain('WEFT_TOKEN=$(weftctl token create --namespace default --service-account bookinfo-details)');
    expect((await instancesByWorkload(weftd)).has('details-v1')).to.equal(false);
  });
});
