// The sidecar pair of the sidecar benchmark: two haproxy processes standing in for Istio's two Envoys.
// The outbound one listens plaintext on loopback (what the app talks to) and forwards over mTLS with
// the client workload's certificate; the inbound one terminates mTLS (client certificate required,
// checked against the mesh trust bundle) and forwards plaintext to the app on loopback. HTTP mode on
// both, keep-alive and connection reuse on both hops, no logging (Istio's default has no access log).
// haproxy is Debian's, installed by scripts/ensure-haproxy.sh when missing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep, stopChild } from './util.js';

const ENSURE_HAPROXY = fileURLToPath(new URL('../../scripts/ensure-haproxy.sh', import.meta.url));

/** The haproxy binary's path; installs Debian's package first when there is none (as root). */
export function ensureHaproxy(): string {
  const r = spawnSync('bash', [ENSURE_HAPROXY], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000 });
  const path = r.stdout?.trim().split('\n').pop();
  if (r.status !== 0 || !path) throw new Error(`sidecar bench needs haproxy: ${ENSURE_HAPROXY} failed (${r.error?.message ?? `exit ${r.status}`}); see its message above`);
  return path;
}

/** PEM material of one side: its certificate chain and key, and the trust bundle it checks the peer with. */
export interface SidecarTls {
  keyPem: string;
  chainPem: string;
  bundlePem: string;
}

export interface PairOptions {
  haproxy: string;
  /** The app behind the inbound sidecar: plaintext HTTP on 127.0.0.1. */
  appPort: number;
  /** The calling workload's identity (outbound sidecar) and the called one's (inbound sidecar). */
  client: SidecarTls;
  server: SidecarTls;
  /** haproxy worker threads per sidecar. */
  threads: number;
}

export interface SidecarPair {
  /** Where the app sends its plaintext requests: the outbound sidecar, 127.0.0.1:<port>. */
  outboundPort: number;
  /** The inbound sidecar's mTLS port. */
  inboundPort: number;
  pids: { outbound: number; inbound: number };
  stop(): Promise<void>;
}

function globalAndDefaults(threads: number): string {
  return `global
  nbthread ${threads}
  maxconn 4096

defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
`;
}

export function outboundConfig(o: { threads: number; port: number; inboundPort: number; crt: string; caFile: string }): string {
  // No verifyhost: haproxy checks DNS names only, and the inbound certificate names a SPIFFE ID (URI
  // SAN). Envoy would check that ID; this pair checks the chain only, which costs no more per request.
  return `${globalAndDefaults(o.threads)}
frontend outbound
  bind 127.0.0.1:${o.port}
  default_backend mesh

backend mesh
  server inbound 127.0.0.1:${o.inboundPort} ssl crt ${o.crt} ca-file ${o.caFile} verify required
`;
}

export function inboundConfig(o: { threads: number; port: number; appPort: number; crt: string; caFile: string }): string {
  return `${globalAndDefaults(o.threads)}
frontend inbound
  bind 127.0.0.1:${o.port} ssl crt ${o.crt} ca-file ${o.caFile} verify required
  default_backend app

backend app
  server app 127.0.0.1:${o.appPort}
`;
}

export async function startSidecarPair(o: PairOptions): Promise<SidecarPair> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-sidecar-'));
  const started: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map((p) => stopChild(p)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const file = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text, { mode: 0o600 });
      return path;
    };
    // haproxy's `crt` file holds the chain and the key together.
    const clientCrt = file('outbound.pem', o.client.chainPem + o.client.keyPem);
    const serverCrt = file('inbound.pem', o.server.chainPem + o.server.keyPem);
    const clientCa = file('outbound-bundle.pem', o.client.bundlePem);
    const serverCa = file('inbound-bundle.pem', o.server.bundlePem);
    const inboundPort = await freePort();
    const inbound = await startHaproxy(o.haproxy, file('inbound.cfg', inboundConfig({ threads: o.threads, port: inboundPort, appPort: o.appPort, crt: serverCrt, caFile: serverCa })), inboundPort, started);
    const outboundPort = await freePort();
    const outbound = await startHaproxy(o.haproxy, file('outbound.cfg', outboundConfig({ threads: o.threads, port: outboundPort, inboundPort, crt: clientCrt, caFile: clientCa })), outboundPort, started);
    return { outboundPort, inboundPort, pids: { outbound: outbound.pid!, inbound: inbound.pid! }, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** A port that was free a moment ago (haproxy cannot report a port 0 bind); a lost race fails the start with haproxy's message. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts haproxy in the foreground (-db) and waits, at most 10 s, until its port accepts. */
async function startHaproxy(bin: string, cfg: string, port: number, started: ChildProcess[]): Promise<ChildProcess> {
  const proc = spawn(bin, ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(proc);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const spawnError = new Promise<Error>((resolve) => proc.once('error', resolve));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) break;
    const failed = await Promise.race([spawnError, sleep(0).then(() => undefined)]);
    if (failed) throw new Error(`cannot run ${bin}: ${failed.message}`);
    if (await accepts(port)) return proc;
    await sleep(20);
  }
  throw new Error(`haproxy (${cfg}) did not accept on 127.0.0.1:${port} within 10 s${proc.exitCode !== null ? ` (exited with ${proc.exitCode})` : ''}: ${out.trim() || 'no output'}`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
