// Memory benchmark: does weftd give back what sessions took? 10 rounds, each of sessions that
// subscribe to 50 000 host names never asked before (in Subscribe batches, 10 000 hosts a session:
// the most a session may hold), then close. weftd runs in a child with --expose-gc (heap-daemon.ts)
// and reports its heap after a full GC before the first round and after the last; the ratio of the
// two is `weftd.subscribe_heap_ratio` (1.0 = nothing kept). A weftd that remembered every host ever
// asked (as one did: its registry cached a list per host) ends several times higher.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ControlPlaneClient, MAX_SUBSCRIPTIONS_PER_SESSION, type SessionResponseMsg } from '@weft/api';
import { stopChild } from './util.js';

export interface SubscribeHeapOptions {
  rounds: number;
  hostsPerRound: number;
  /** Hosts per Subscribe message. */
  batch: number;
}

export const SUBSCRIBE_HEAP_DEFAULTS: SubscribeHeapOptions = { rounds: 10, hostsPerRound: 50_000, batch: 2000 };

type Call = grpc.ClientDuplexStream<object, SessionResponseMsg>;

export async function benchSubscribeHeap(opts: SubscribeHeapOptions = SUBSCRIBE_HEAP_DEFAULTS): Promise<Record<string, number>> {
  const child = fork(fileURLToPath(new URL('./heap-daemon.js', import.meta.url)), [], { execArgv: ['--expose-gc'] });
  try {
    const { grpc: grpcAddress, caFile } = await new Promise<{ grpc: string; caFile: string }>((resolve, reject) => {
      child.once('message', (m: { type: string; grpc: string; caFile: string }) => resolve(m));
      child.once('exit', (code) => reject(new Error(`heap daemon exited with ${code}`)));
    });
    // TLS as every client of the session port; weftd is known by its roots (the name is not checked here).
    const tls = grpc.credentials.createSsl(readFileSync(caFile), null, null, { checkServerIdentity: () => undefined });
    const client = new ControlPlaneClient(grpcAddress, tls, { 'grpc.ssl_target_name_override': 'weftd' });
    try {
      await round(client, -1, 100, opts.batch); // warm weftd's code paths, so they do not count as growth
      const start = await measure(child);
      for (let r = 0; r < opts.rounds; r++) await round(client, r, opts.hostsPerRound, opts.batch);
      await new Promise((resolve) => setTimeout(resolve, 1000)); // past the endpoint grace of the callers' own workloads
      const end = await measure(child);
      if (process.env.WEFT_BENCH_DEBUG) console.log('heap sizes after the rounds:', JSON.stringify(end.sizes));
      const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;
      return {
        'weftd.subscribe_heap_ratio': Math.round((end.heapUsed / start.heapUsed) * 1000) / 1000,
        'weftd.subscribe_heap_start_mb': mb(start.heapUsed),
        'weftd.subscribe_heap_end_mb': mb(end.heapUsed),
        'weftd.subscribe_hosts_total': opts.rounds * opts.hostsPerRound,
      };
    } finally {
      client.close();
    }
  } finally {
    child.send({ type: 'stop' });
    await stopChild(child, null);
  }
}

/** One round: sessions that together subscribe `hosts` fresh names, each answered, then all closed. */
async function round(client: grpc.Client, r: number, hosts: number, batch: number): Promise<void> {
  const perSession = Math.min(hosts, MAX_SUBSCRIPTIONS_PER_SESSION);
  const calls: Promise<void>[] = [];
  for (let first = 0, k = 0; first < hosts; first += perSession, k++) {
    const names = Array.from({ length: Math.min(perSession, hosts - first) }, (_, i) => `fresh-${r}-${first + i}`);
    calls.push(oneSession(client, `heap-${r}-${k}`, names, batch));
  }
  await Promise.all(calls);
}

function oneSession(client: grpc.Client, instanceId: string, hosts: string[], batch: number): Promise<void> {
  const call = (client as unknown as { Session(): Call }).Session();
  const batches = Math.ceil(hosts.length / batch);
  return new Promise<void>((resolve, reject) => {
    let answers = 0;
    const timer = setTimeout(() => reject(new Error(`session ${instanceId}: only ${answers} of ${batches} subscriptions answered within 30 s`)), 30_000);
    call.on('data', (m: SessionResponseMsg) => {
      if (m.kind === 'endpoints' && ++answers === batches) {
        clearTimeout(timer);
        resolve();
      }
    });
    call.on('error', (e: grpc.ServiceError) => {
      clearTimeout(timer);
      if (e.code !== grpc.status.CANCELLED) reject(new Error(`session ${instanceId}: ${e.message}`));
    });
    call.write({ hello: { workload: { instanceId, service: 'heap-bench', namespace: 'bench', labels: {}, serviceAccount: 'bench', workloadName: 'heap-bench' }, sdkVersion: 'bench', resume: false } });
    for (let i = 0; i < hosts.length; i += batch) call.write({ subscribe: { hosts: hosts.slice(i, i + batch) } });
  }).finally(() => call.cancel());
}

function measure(child: ChildProcess): Promise<{ heapUsed: number; sizes: unknown }> {
  return new Promise((resolve) => {
    const onMessage = (m: { type: string; heapUsed: number; sizes: unknown }) => {
      if (m.type !== 'heap') return;
      child.off('message', onMessage);
      resolve(m);
    };
    child.on('message', onMessage);
    child.send({ type: 'measure' });
  });
}

// `node bench/dist/subscribe-heap.js` runs this benchmark alone and prints its figures.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = await benchSubscribeHeap();
  for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(32)} ${v}`);
}
