// The long-running demo survives what people try first: `kill` of a workload (and of weftd). It
// reports the death, restarts the process, the mesh sees it again, and Ctrl-C still leaves no process
// behind.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { instancesByWorkload, pollUntil } from '@weft/bookinfo';
import { expect } from 'chai';

const DEMO_BIN = fileURLToPath(new URL('../../../examples/bookinfo/dist/demo.js', import.meta.url));

/** Whether `pid` is still one of the demo's processes (not gone, not a zombie, not a reused pid). */
function isDemoProcessAlive(pid: number): boolean {
  let stat: string;
  let cmdline: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && /workload\.js|weftd\.js/.test(cmdline);
}

describe('Bookinfo demo, long-running: kill a process and watch', function () {
  this.timeout(150_000);

  it('reports a killed workload and weftd, restarts both, and on SIGINT leaves no process behind', async () => {
    const proc = spawn(process.execPath, [DEMO_BIN, '--any-ports'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('close', (code, signal) => resolve({ code, signal })));
    const killer = setTimeout(() => proc.kill('SIGKILL'), 140_000);
    const waitForOutput = (pattern: RegExp, timeoutMs: number) =>
      pollUntil(
        async () => {
          const m = pattern.exec(out);
          if (m) return m;
          if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the demo ended (${proc.exitCode ?? proc.signalCode}) before printing ${pattern}:\n${out}`);
          return undefined;
        },
        () => `the demo did not print ${pattern}; it printed:\n${out}`,
        { timeoutMs, intervalMs: 100 },
      );
    const pids = new Set<number>();
    try {
      await waitForOutput(/For example: +kill -9 \d+/, 100_000);
      const table = new Map([...out.matchAll(/^ {4}(weftd|[a-z]+-v\d-\d) +(\d+) {2,}/gm)].map((m) => [m[1]!, Number(m[2])]));
      expect([...table.keys()].sort(), out).to.deep.equal(
        ['details-v1-1', 'productpage-v1-1', 'ratings-v1-1', 'ratings-v1-2', 'reviews-v1-1', 'reviews-v2-1', 'reviews-v3-1', 'weftd'],
      );
      for (const pid of table.values()) pids.add(pid);
      expect(out).to.match(/the page while it is down/);
      // What the demo tells a user to export is what this test uses to reach its weftd.
      const adminUrl = /export WEFT_SERVER=(https:\/\/\S+)/.exec(out)![1]!;
      const admin = { adminUrl, credentialsFile: /export WEFT_CREDENTIALS=(\S+)/.exec(out)![1]! };
      const ratingsRegistered = (n: number) =>
        pollUntil(async () => ((await instancesByWorkload(admin).catch(() => new Map())).get('ratings-v1') === n ? true : undefined), () => `ratings-v1 ×${n} in ${adminUrl}`, {
          timeoutMs: 20_000,
          intervalMs: 100,
        });

      const ratings = table.get('ratings-v1-2')!;
      process.kill(ratings, 'SIGKILL');
      await waitForOutput(new RegExp(`!! ratings-v1-2 \\(pid ${ratings}\\) was killed by SIGKILL after [\\d.]+ s\\. The page meanwhile: `), 10_000);
      expect(out).to.match(/restarting ratings-v1-2 in 1\.0 s \(restart 1 of at most 5 in a row\)/);
      // Back with its identity: a restarted workload enrols again (the demo gives it a fresh join token).
      const back = Number((await waitForOutput(/ratings-v1-2 is back: pid (\d+), listening on http:\/\/127\.0\.0\.1:\d+ as spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-ratings/, 20_000))[1]);
      pids.add(back);
      expect(back).to.not.equal(ratings);
      expect(isDemoProcessAlive(back)).to.equal(true);
      await ratingsRegistered(2);

      const weftd = table.get('weftd')!;
      process.kill(weftd, 'SIGKILL');
      await waitForOutput(new RegExp(`!! weftd \\(pid ${weftd}\\) was killed by SIGKILL`), 10_000);
      const weftdBack = Number((await waitForOutput(/weftd is back: pid (\d+), admin API listening on (https:\/\/\S+)/, 20_000))[1]);
      pids.add(weftdBack);
      // Same admin URL as before (weftctl keeps working), and the workloads registered with the new weftd.
      expect(out).to.contain(`weftd is back: pid ${weftdBack}, admin API listening on ${adminUrl}`);
      await ratingsRegistered(2);

      proc.kill('SIGINT');
      const end = await exited;
      expect(end.code, out).to.equal(0);
      expect(out).to.contain('Stopping...');
      const alive = [...pids].filter(isDemoProcessAlive);
      expect(alive, `processes left behind after the demo ended:\n${out}`).to.deep.equal([]);
    } finally {
      clearTimeout(killer);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
      for (const pid of pids) if (isDemoProcessAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
