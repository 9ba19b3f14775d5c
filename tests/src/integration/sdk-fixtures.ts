// Helpers for the SDK integration tests: real weftd (startWeftd), real workloads registered through
// mesh.serve on 127.0.0.1 port 0, and the admin API for applying Istio YAML.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import { createMesh, type Mesh, type MeshOptions } from '@weft/sdk';
import { FileStore } from '@weft/registry';
import { adminFetch, createToken, WEFTD_BIN } from '../support/weftd.js';

export const NS = 'shop';

/** POST /v1/apply with a YAML body; returns the store revision of the write. */
export async function applyYaml(adminUrl: string, yaml: string): Promise<number> {
  const res = await adminFetch(`${adminUrl}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: yaml });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`apply failed (${res.status}): ${text}`);
  return (JSON.parse(text) as { revision: number }).revision;
}

/** Polls `check` every 20 ms until it returns true; fails after `timeoutMs` with `what`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000; i++) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

export interface Workload {
  mesh: Mesh;
  server: Server;
  name: string;
}

/** A workload of `service` answering `{ name }` (after `delayMs`), registered with weftd. */
export async function startWorkload(
  controlPlane: string,
  service: string,
  name: string,
  labels: Record<string, string> = {},
  delayMs = 0,
  extra: Partial<MeshOptions> = {},
): Promise<Workload> {
  // A workload that serves must prove its identity: a join token for its service account.
  const token = extra.token ?? (await createToken(controlPlane, extra.namespace ?? NS, extra.serviceAccount ?? 'default'));
  const mesh = await createMesh({ service, namespace: NS, labels, controlPlane, initialTimeoutMs: 5000, drainTimeoutMs: 1000, token, ...extra });
  const server = await mesh.serve((req, res) => {
    const answer = () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name, user: req.headers['end-user'] ?? null }));
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  }, { port: 0, host: '127.0.0.1' });
  return { mesh, server, name };
}

/** Sends `n` GETs with `concurrency` in flight and counts answers by workload name. */
export async function tally(mesh: Mesh, url: string, n: number, concurrency = 1, headers: Record<string, string> = {}): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let sent = 0;
  const worker = async () => {
    while (sent < n) {
      sent++;
      const r = await mesh.request(url, { headers });
      const { name } = (await r.body.json()) as { name: string };
      counts[name] = (counts[name] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return counts;
}

/** Sequence of workload names answering `n` sequential requests. */
export async function sequence(mesh: Mesh, url: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await mesh.request(url);
    out.push(((await r.body.json()) as { name: string }).name);
  }
  return out;
}

/**
 * Starts weftd again on the data dir and the exact ports of an earlier run (startWeftd always asks for
 * port 0, and weftd refuses a flag given twice). The caller stops the returned process.
 */
export async function restartWeftdOnSamePorts(previous: { grpcAddress: string; adminUrl: string; dataDir: string }): Promise<RestartedWeftd> {
  const grpcPort = previous.grpcAddress.split(':').pop()!;
  const adminPort = previous.adminUrl.split(':').pop()!;
  const proc = spawn(process.execPath, [WEFTD_BIN, '--data-dir', previous.dataDir, '--port', grpcPort, '--admin-port', adminPort], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
  };
  try {
    await waitFor('weftd to listen again', () => /admin API listening on/.test(out) || proc.exitCode !== null, 15000);
  } catch (e) {
    await stop();
    throw e;
  }
  if (proc.exitCode !== null) throw new Error(`weftd did not restart:\n${out}`);
  return { proc, stop, output: () => out };
}

export interface RestartedWeftd {
  proc: ChildProcess;
  stop(): Promise<void>;
  output(): string;
}

/**
 * Writes, straight into a stopped weftd's store, a VirtualService with a field this version does not
 * support (spec.http[0].fault.abort.http2Error, which Istio does not implement either): what a store
 * holds after a rollback from a newer weftd. weftd serves it as stored; the SDK must NACK it.
 */
export async function storeResourceFromTheFuture(dataDir: string, name = 'from-the-future'): Promise<void> {
  const store = await FileStore.open(dataDir);
  try {
    await store.commit((view) => ({
      mutation: {
        puts: [{
          kind: 'VirtualService',
          namespace: NS,
          name,
          apiVersion: 'networking.istio.io/v1',
          resourceVersion: view.nextRevision,
          createdMs: Date.now(),
          object: {
            apiVersion: 'networking.istio.io/v1',
            kind: 'VirtualService',
            metadata: { name, namespace: NS },
            spec: { hosts: ['other'], http: [{ route: [{ destination: { host: 'other' } }], fault: { abort: { http2Error: 'REFUSED_STREAM', percentage: { value: 100 } } } }] },
          },
        }],
        deletes: [],
      },
      value: undefined,
    }));
  } finally {
    await store.close();
  }
}
