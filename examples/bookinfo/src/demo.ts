#!/usr/bin/env node
// `npm run demo [-- --requests N]`: weftd plus every Bookinfo workload as separate processes, then
// Istio's traffic-management tasks phase by phase, with a table of which reviews version answered.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ChildGroup, type Child } from './demo/processes.js';
import { formatTable } from './demo/table.js';
import { driveProductPage, logIn, type TrafficResult } from './demo/traffic.js';
import { configRevision, waitForConfig, waitForInstances } from './mesh-admin.js';
import { weftctlApply } from './weftctl.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WEFTD = join(REPO_ROOT, 'packages/registry/bin/weftd.js');
const WORKLOAD = fileURLToPath(new URL('./workload.js', import.meta.url));

const DEFAULT_REQUESTS = 100;
const PREFERRED_PRODUCTPAGE_PORT = 9080;
const STARTUP_TIMEOUT_MS = 30_000;
const CONFIG_TIMEOUT_MS = 10_000;
const VERSIONS = ['v1', 'v2', 'v3'] as const;

/** The workloads, one process per entry; ratings runs twice to show balancing over instances. */
const WORKLOADS: ReadonlyArray<{ service: string; version: string; instances: number }> = [
  { service: 'productpage', version: 'v1', instances: 1 },
  { service: 'details', version: 'v1', instances: 1 },
  { service: 'ratings', version: 'v1', instances: 2 },
  { service: 'reviews', version: 'v1', instances: 1 },
  { service: 'reviews', version: 'v2', instances: 1 },
  { service: 'reviews', version: 'v3', instances: 1 },
];

interface Phase {
  title: string;
  /** Networking files applied before the traffic (in order, as one weftctl apply). */
  apply: string[];
  /** Log in as this user first (productpage then sends `end-user`). */
  user?: string;
  /** Why the outcome is clearly wrong, or undefined if it looks right. */
  check(result: TrafficResult): string | undefined;
}

function share(result: TrafficResult, version: string): number {
  return result.total ? (result.byVersion.get(version) ?? 0) / result.total : 0;
}

function onlyVersions(result: TrafficResult, allowed: readonly string[]): string | undefined {
  const other = [...result.byVersion.keys()].filter((v) => !allowed.includes(v));
  return other.length ? `expected only ${allowed.join('/')}, also got ${other.join(', ')}` : undefined;
}

const PHASES: Phase[] = [
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
];

const USAGE = `usage: npm run demo [-- --requests N] [--productpage-port P]
  --requests N          send N requests per phase, print the tables and exit (non-zero if a phase looks wrong)
                        without it: ${DEFAULT_REQUESTS} requests per phase, then keep running until Ctrl-C
  --productpage-port P  productpage's port (default ${PREFERRED_PRODUCTPAGE_PORT} if free, else any; 0 = any)`;

function parseOptions(): { requests: number; once: boolean; port: number | undefined } | undefined {
  const { values } = parseArgs({
    options: { requests: { type: 'string' }, 'productpage-port': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return undefined;
  const portText = values['productpage-port'];
  if (portText !== undefined && (!/^\d+$/.test(portText) || Number(portText) > 65535)) {
    throw new Error(`--productpage-port must be an integer 0..65535, got "${portText}"`);
  }
  const port = portText === undefined ? undefined : Number(portText);
  if (values.requests === undefined) return { requests: DEFAULT_REQUESTS, once: false, port };
  const n = Number(values.requests);
  if (!/^\d+$/.test(values.requests) || n < 1) throw new Error(`--requests must be a positive integer, got "${values.requests}"`);
  return { requests: n, once: true, port };
}

/** 9080 like the Kubernetes Service, unless something already listens there. */
function productPagePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(0));
    probe.listen(PREFERRED_PRODUCTPAGE_PORT, '127.0.0.1', () => probe.close(() => resolve(PREFERRED_PRODUCTPAGE_PORT)));
  });
}

async function main(): Promise<number> {
  const options = parseOptions();
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-demo-'));
  const children = new ChildGroup();
  let failure: Error | undefined;
  let interrupted: NodeJS.Signals | undefined;
  const crashed = new Promise<never>((_, reject) => {
    children.onUnexpectedExit = (child: Child, code, signal) => {
      // Ctrl-C in a terminal signals the whole process group: children stopping then is expected.
      if (interrupted) return;
      failure = new Error(`${child.name} exited unexpectedly (${code ?? signal}):\n${child.tail()}`);
      reject(failure);
    };
  });
  crashed.catch(() => undefined);
  const shutdown = async () => {
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
  });
  const race = <T>(p: Promise<T>): Promise<T> =>
    Promise.race([p, crashed, stopped.then(() => Promise.reject(new Error(`interrupted by ${interrupted}`)))]);

  try {
    console.log('Weft Bookinfo demo\n');
    const weftd = children.spawn('weftd', [WEFTD, '--data-dir', dataDir, '--port', '0', '--admin-port', '0']);
    const grpcAddress = (await race(weftd.waitFor(/control plane listening on (\S+:\d+)/, STARTUP_TIMEOUT_MS)))[1]!;
    const adminUrl = (await race(weftd.waitFor(/admin API listening on (http:\/\/\S+:\d+)/, STARTUP_TIMEOUT_MS)))[1]!;
    console.log(`  weftd        control plane ${grpcAddress}, admin API ${adminUrl}`);

    const pagePort = options.port ?? (await productPagePort());
    const started = Date.now();
    const expected: Record<string, number> = {};
    const listening: Array<Promise<RegExpExecArray>> = [];
    for (const { service, version, instances } of WORKLOADS) {
      const workloadName = `${service}-${version}`;
      expected[workloadName] = instances;
      for (let i = 1; i <= instances; i++) {
        const args = [WORKLOAD, service, '--version', version];
        if (service === 'productpage') args.push('--port', String(pagePort));
        const child = children.spawn(`${workloadName}-${i}`, args, { WEFT_CONTROL_PLANE: grpcAddress, HOSTNAME: `${workloadName}-${i}` });
        listening.push(child.waitFor(/listening on (http:\/\/\S+)/, STARTUP_TIMEOUT_MS));
      }
    }
    await race(Promise.all(listening));
    await race(waitForInstances(adminUrl, expected, { timeoutMs: STARTUP_TIMEOUT_MS }));
    const productpage = (await listening[0]!)[1]!;
    const summary = WORKLOADS.map((w) => `${w.service}-${w.version}${w.instances > 1 ? ` ×${w.instances}` : ''}`).join(', ');
    console.log(`  workloads    ${summary}`);
    console.log(`               all registered after ${((Date.now() - started) / 1000).toFixed(1)} s; productpage at ${productpage}\n`);

    const problems: string[] = [];
    for (const [i, phase] of PHASES.entries()) {
      console.log(`Phase ${i + 1}: ${phase.title}`);
      if (phase.apply.length) {
        for (const line of await race(weftctlApply(adminUrl, phase.apply))) console.log(`    ${line}`);
        await race(waitForConfig(adminUrl, await configRevision(adminUrl), ['productpage', 'reviews'], { timeoutMs: CONFIG_TIMEOUT_MS }));
      }
      const cookie = phase.user ? await race(logIn(productpage, phase.user)) : undefined;
      const who = phase.user ? ` as ${phase.user}` : '';
      console.log(`  ${options.requests} requests to ${productpage}/productpage${who}:`);
      const result = await race(driveProductPage(`${productpage}/productpage`, options.requests, cookie ? { cookie } : {}));
      console.log(formatTable(result, VERSIONS));
      const failed = [...result.failures.values()].reduce((a, b) => a + b, 0);
      const problem = failed ? `${failed} request(s) failed` : phase.check(result);
      if (problem) {
        problems.push(`phase ${i + 1}: ${problem}`);
        console.log(`  !! ${problem}`);
      }
      console.log('');
    }

    if (options.once) {
      if (problems.length) console.log(`Done, with problems:\n  ${problems.join('\n  ')}`);
      else console.log('Done: every phase behaved as expected.');
      return problems.length ? 1 : 0;
    }
    console.log(`Bookinfo is running. Open ${productpage}/productpage in a browser`);
    console.log('(sign in as jason to see v2\'s black stars; everyone else gets v1). Ctrl-C stops everything.');
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
