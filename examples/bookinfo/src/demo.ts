#!/usr/bin/env node
// `npm run demo [-- --requests N]`: weftd plus every Bookinfo workload as separate processes, each with
// its own identity (a join token per service account, made here through the admin API), then Istio's
// traffic-management tasks phase by phase, with a table of which reviews version answered, mTLS STRICT
// with the proof that every call behind the page is mTLS, then mirroring and fault injection. Without
// --requests it keeps running, and restarts any process that dies, so you can break it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatBreakItHelp, WHILE_DOWN, type ProcessRow } from './demo/break-it.js';
import { DemoUsageError, parseDemoArgs, USAGE } from './demo/options.js';
import { PHASES, VERSIONS, type PhaseContext } from './demo/phases.js';
import { controlPlaneExports, portOrAny } from './demo/ports.js';
import { ChildGroup, type Child } from './demo/processes.js';
import { Supervisor } from './demo/supervisor.js';
import { formatTable } from './demo/table.js';
import { driveProductPage, logIn } from './demo/traffic.js';
import { configRevision, createJoinToken, pollUntil, waitForConfig, waitForInstances, type AdminTarget } from './mesh-admin.js';
import { weftctlApply } from './weftctl.js';
import { BOOKINFO_NAMESPACE } from './workload-runtime.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WEFTD = join(REPO_ROOT, 'packages/registry/bin/weftd.js');
const WORKLOAD = fileURLToPath(new URL('./workload.js', import.meta.url));

const STARTUP_TIMEOUT_MS = 30_000;
const CONFIG_TIMEOUT_MS = 10_000;
const INDENT = '               ';
/** A workload's ready line: its URL and the SPIFFE ID of its certificate. */
const WORKLOAD_READY = /(listening on (http:\/\/\S+) as (spiffe:\/\/\S+))/;
const WEFTD_READY = /(admin API listening on https:\/\/\S+)/;
/** The first workloads get tokens valid this long (replicas share one); a restarted one gets a fresh token. */
const TOKEN_TTL = '24h';
/** A restarted workload enrols within seconds of its token being made. */
const RESTART_TOKEN_TTL = '1h';
const ROUTING_SERVICES = ['productpage', 'reviews'];

/** The workloads, one process per entry; ratings runs twice to show balancing over instances. */
const WORKLOADS: ReadonlyArray<{ service: string; version: string; instances: number }> = [
  { service: 'productpage', version: 'v1', instances: 1 },
  { service: 'details', version: 'v1', instances: 1 },
  { service: 'ratings', version: 'v1', instances: 2 },
  { service: 'reviews', version: 'v1', instances: 1 },
  { service: 'reviews', version: 'v2', instances: 1 },
  { service: 'reviews', version: 'v3', instances: 1 },
];

const portOf = (address: string) => Number(/:(\d+)$/.exec(address)![1]);

async function main(): Promise<number> {
  let options;
  try {
    options = parseDemoArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof DemoUsageError)) throw err;
    console.error(`demo: ${err.message}\n${USAGE}`);
    return 1;
  }
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-demo-'));
  const children = new ChildGroup();
  let failure: Error | undefined;
  let interrupted: NodeJS.Signals | undefined;
  let rejectFailed: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
  failed.catch(() => undefined);
  const fail = (err: Error) => {
    failure ??= err;
    rejectFailed(failure);
  };
  // Long-running mode restarts what dies; with --requests (tests, CI) a death is a failure.
  const supervisor = new Supervisor(children, {
    log: (line) => console.log(line),
    onGiveUp: (child) => {
      if (child.name === 'weftd') fail(new Error('weftd keeps dying (see above); the demo cannot go on without its control plane'));
    },
  });
  children.onUnexpectedExit = (child: Child, code, signal) => {
    // Ctrl-C in a terminal signals the whole process group: children stopping then is expected.
    if (interrupted) return;
    if (supervisor.watches(child)) supervisor.onExit(child, code, signal);
    else fail(new Error(`${child.name} exited unexpectedly (${code ?? signal}):\n${child.tail()}`));
  };
  const shutdown = async () => {
    supervisor.stop();
    await children.stopAll((c) => c.name !== 'weftd');
    rmSync(dataDir, { recursive: true, force: true });
  };
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      interrupted = signal;
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    process.once('SIGHUP', onSignal);
  });
  const race = <T>(p: Promise<T>): Promise<T> =>
    Promise.race([p, failed, stopped.then(() => Promise.reject(new Error(`interrupted by ${interrupted}`)))]);

  try {
    console.log('Weft Bookinfo demo\n');
    const { ports } = options;
    const [grpcChoice, adminChoice, pageChoice] = await Promise.all([portOrAny(ports.weftd), portOrAny(ports.weftdAdmin), portOrAny(ports.productpage)]);
    const weftdArgs = (grpcPort: number, adminPort: number) => [WEFTD, '--data-dir', dataDir, '--port', String(grpcPort), '--admin-port', String(adminPort)];
    const weftd = children.spawn('weftd', weftdArgs(grpcChoice.port, adminChoice.port));
    const grpcAddress = (await race(weftd.waitFor(/control plane listening on (\S+:\d+)/, STARTUP_TIMEOUT_MS)))[1]!;
    const adminUrl = (await race(weftd.waitFor(/admin API listening on (https:\/\/\S+:\d+)/, STARTUP_TIMEOUT_MS)))[1]!;
    const credentialsFile = (await race(weftd.waitFor(/admin credential (?:written to|in) (\S+)/, STARTUP_TIMEOUT_MS)))[1]!;
    const admin: AdminTarget = { adminUrl, credentialsFile };
    console.log(`  weftd        pid ${weftd.proc.pid}: control plane ${grpcAddress}, admin API ${adminUrl}`);
    const taken = [grpcChoice.taken && `${ports.weftd} (--weftd-port)`, adminChoice.taken && `${ports.weftdAdmin} (--weftd-admin-port)`].filter(Boolean);
    if (taken.length) console.log(`${INDENT}port ${taken.join(' and ')} in use (another weftd?), so weftd took a free one.`);
    console.log(`${INDENT}For weftctl and your own workloads in another terminal:`);
    for (const line of controlPlaneExports(grpcAddress, adminUrl, credentialsFile)) console.log(`${INDENT}  ${line}`);
    console.log(`${INDENT}then e.g.: npx weftctl services`);
    console.log(`${INDENT}a workload of yours needs: export WEFT_TOKEN=$(npx weftctl token create --namespace ${BOOKINFO_NAMESPACE} --service-account NAME)`);
    if (!options.once) {
      // Restarted on the same ports, so workloads and weftctl find it again; its data dir keeps the config.
      supervisor.watch(weftd, { ready: WEFTD_READY, restartArgs: weftdArgs(portOf(grpcAddress), portOf(adminUrl)), meanwhile: WHILE_DOWN['weftd'] });
    }

    // One join token per service account (bookinfo-<service>, as Istio's bookinfo.yaml); replicas share it.
    const serviceAccounts = [...new Set(WORKLOADS.map((w) => `bookinfo-${w.service}`))];
    const tokens = new Map(await race(Promise.all(serviceAccounts.map(async (sa) => [sa, await createJoinToken(admin, BOOKINFO_NAMESPACE, sa, TOKEN_TTL)] as const))));
    console.log(`  tokens       a join token (${TOKEN_TTL}) per service account: ${serviceAccounts.join(', ')}`);

    const started = Date.now();
    const expected: Record<string, number> = {};
    const workloads: Array<{ child: Child; workloadName: string; serviceAccount: string; listening: Promise<RegExpExecArray> }> = [];
    for (const { service, version, instances } of WORKLOADS) {
      const workloadName = `${service}-${version}`;
      const serviceAccount = `bookinfo-${service}`;
      expected[workloadName] = instances;
      for (let i = 1; i <= instances; i++) {
        const args = [WORKLOAD, service, '--version', version];
        if (service === 'productpage') args.push('--port', String(pageChoice.port));
        const env = { WEFT_CONTROL_PLANE: grpcAddress, WEFT_TOKEN: tokens.get(serviceAccount)!, HOSTNAME: `${workloadName}-${i}` };
        const child = children.spawn(`${workloadName}-${i}`, args, env);
        workloads.push({ child, workloadName, serviceAccount, listening: child.waitFor(WORKLOAD_READY, STARTUP_TIMEOUT_MS) });
      }
    }
    const ready = await race(Promise.all(workloads.map((w) => w.listening)));
    await race(waitForInstances(admin, expected, { timeoutMs: STARTUP_TIMEOUT_MS }));
    const productpage = ready[0]![2]!;
    const summary = WORKLOADS.map((w) => `${w.service}-${w.version}${w.instances > 1 ? ` ×${w.instances}` : ''}`).join(', ');
    console.log(`  workloads    ${summary}`);
    console.log(`${INDENT}all registered after ${((Date.now() - started) / 1000).toFixed(1)} s; productpage at ${productpage}`);
    if (pageChoice.taken) console.log(`${INDENT}(port ${ports.productpage} was in use, so productpage took a free one)`);
    console.log(`${INDENT}identities, from each one's certificate (calls between them are mTLS):`);
    const identities = new Map<string, Set<string>>();
    workloads.forEach((w, i) => identities.set(w.workloadName, (identities.get(w.workloadName) ?? new Set()).add(ready[i]![3]!)));
    const nameWidth = Math.max(...[...identities.keys()].map((n) => n.length)) + 2;
    for (const [name, ids] of identities) console.log(`${INDENT}  ${name.padEnd(nameWidth)}${[...ids].join(', ')}`);
    console.log(`${INDENT}pids: ${workloads.map((w) => `${w.child.name} ${w.child.proc.pid}`).join(', ')}\n`);
    if (!options.once) {
      for (const { child, workloadName, serviceAccount } of workloads) {
        // productpage comes back on the port it had, so the URL in the browser keeps working.
        const restartArgs = child.name.startsWith('productpage') ? [WORKLOAD, 'productpage', '--version', 'v1', '--port', String(portOf(productpage))] : undefined;
        supervisor.watch(child, {
          ready: WORKLOAD_READY,
          ...(restartArgs ? { restartArgs } : {}),
          meanwhile: WHILE_DOWN[workloadName] ?? '',
          freshEnv: async () => ({ WEFT_TOKEN: await createJoinToken(admin, BOOKINFO_NAMESPACE, serviceAccount, RESTART_TOKEN_TTL) }),
        });
      }
    }

    const urlOf = (workloadName: string) => {
      const i = workloads.findIndex((w) => w.workloadName === workloadName);
      if (i < 0) throw new Error(`no workload ${workloadName} in this demo`);
      return ready[i]![2]!;
    };
    const outputOf = (workloadName: string, pattern: RegExp, timeoutMs: number) =>
      pollUntil(
        async () => {
          for (const w of workloads) {
            const m = w.workloadName === workloadName ? pattern.exec(w.child.tail()) : null;
            if (m) return m;
          }
          return undefined;
        },
        () => `no ${pattern} from ${workloadName}`,
        { timeoutMs },
      ).catch(() => undefined);

    const problems: string[] = [];
    for (const [i, phase] of PHASES.entries()) {
      console.log(`Phase ${i + 1}: ${phase.title}`);
      if (phase.apply.length) {
        for (const line of await race(weftctlApply(admin, phase.apply))) console.log(`    ${line}`);
        await race(waitForConfig(admin, await configRevision(admin), phase.configuredBy ?? ROUTING_SERVICES, { timeoutMs: CONFIG_TIMEOUT_MS }));
      }
      const cookie = phase.user ? await race(logIn(productpage, phase.user)) : undefined;
      const who = phase.user ? ` as ${phase.user}` : '';
      console.log(`  ${options.requests} requests to ${productpage}/productpage${who}:`);
      const result = await race(driveProductPage(`${productpage}/productpage`, options.requests, cookie ? { cookie } : {}));
      console.log(formatTable(result, VERSIONS));
      const failedRequests = [...result.failures.values()].reduce((a, b) => a + b, 0);
      const phaseProblems = [failedRequests ? `${failedRequests} request(s) failed` : phase.check(result)];
      if (phase.verify) {
        const ctx: PhaseContext = {
          url: urlOf,
          page: async () => (await fetch(`${productpage}/productpage`, { headers: cookie ? { cookie } : {}, signal: AbortSignal.timeout(15_000) })).text(),
          output: outputOf,
        };
        const report = await race(phase.verify(ctx));
        for (const line of report.lines) console.log(`  ${line}`);
        phaseProblems.push(report.problem);
      }
      for (const problem of phaseProblems.filter((p): p is string => p !== undefined)) {
        problems.push(`phase ${i + 1}: ${problem}`);
        console.log(`  !! ${problem}`);
      }
      if (phase.restore?.length) {
        // One apply per file: two of them may define the same rule (reviews), which one batch refuses.
        for (const file of phase.restore) await race(weftctlApply(admin, [file]));
        await race(waitForConfig(admin, await configRevision(admin), phase.configuredBy ?? ROUTING_SERVICES, { timeoutMs: CONFIG_TIMEOUT_MS }));
        console.log(`  undone: ${phase.restore.map((f) => `weftctl apply -f ${f}`).join('; ')}`);
      }
      console.log('');
    }

    if (options.once) {
      if (problems.length) console.log(`Done, with problems:\n  ${problems.join('\n  ')}`);
      else console.log('Done: every phase behaved as expected.');
      return problems.length ? 1 : 0;
    }
    console.log(`Bookinfo is running. Open ${productpage}/productpage in a browser`);
    console.log("(sign in as jason to see v2's black stars; everyone else gets v1). Every call behind the page is mTLS;");
    console.log('only productpage accepts plaintext, from your browser (STRICT everywhere else). Ctrl-C stops everything.\n');
    const rows: ProcessRow[] = [
      ...workloads.map((w) => ({ name: w.child.name, workload: w.workloadName, pid: w.child.proc.pid })),
      { name: 'weftd', workload: 'weftd', pid: weftd.proc.pid },
    ];
    console.log(formatBreakItHelp(rows, 'ratings-v1-2'));
    console.log('');
    await race(stopped).catch(() => undefined);
    if (failure) throw failure;
    console.log('\nStopping...');
    return 0;
  } catch (err) {
    if (interrupted && !failure) {
      console.error(`\nInterrupted (${interrupted}); stopping...`);
      return 130;
    }
    console.error(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await shutdown();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
