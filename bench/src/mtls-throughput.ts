// mtls.throughput_ratio: mesh.request over auto-mTLS against bare undici with the same TLS (the same
// client certificate and trust bundle, keep-alive, a Pool bound to the one origin) to the same mesh
// server, at the same concurrency, interleaved in rounds in one process. The server is the echo
// workload with a join token, in its own process; both clients hold certificates of the same CA.
// The setup (startMtlsEcho) and the rounds (interleave) are shared with the sidecar-pair bench.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { createMesh, type Mesh } from '@weft/sdk';
import { createToken, adminFetch, applyYaml, closedLoop, sleep, stopChild, type Daemon, type LoadResult } from './util.js';

export { createToken };

export interface MtlsBenchOptions {
  seconds: number;
  rounds: number;
  concurrency: number;
  /**
   * Before each measured run, the variant runs this long unmeasured (default 0), so that connections an
   * idle gap between its runs closed (undici's keep-alive timeout is 4 s, Node's server's 5 s) are open
   * again and the run measures steady traffic, not handshakes.
   */
  rewarmMs?: number;
  /** How long each variant runs before the first round, unmeasured (default 300 ms). */
  warmupMs?: number;
}

/** The echo workload serving mTLS, a mesh client with its own certificate, and a bare Pool with the same TLS. */
export interface MtlsEcho {
  /** The echo workload's served port on 127.0.0.1 (PERMISSIVE unless strict() is in force). */
  port: number;
  /** The echo workload's process id (for its CPU time). */
  echoPid: number;
  /** A mesh (service bench-mtls-client, service account bench-client) subscribed to `echo`. */
  mesh: Mesh;
  /** The client mesh's certificate, key and trust bundle (PEM). */
  tls: { keyPem: string; chainPem: string; bundlePem: string };
  /** undici Pool on https://127.0.0.1:<port> with the same client certificate and trust bundle. */
  pool: Pool;
  /** A STRICT PeerAuthentication on the echo workload: plaintext to it is refused. */
  strict(): Promise<void>;
  /** Removes it again (the mesh default, PERMISSIVE). */
  permissive(): Promise<void>;
  close(): Promise<void>;
}

export async function startMtlsEcho(daemon: Daemon): Promise<MtlsEcho> {
  // echo-server.ts's createMesh reads WEFT_TOKEN; its service account is the default one.
  const echo = fork(fileURLToPath(new URL('./echo-server.js', import.meta.url)), [], {
    env: { ...process.env, WEFT_CONTROL_PLANE: daemon.grpc, WEFT_TOKEN: await createToken(daemon.admin, 'default') },
  });
  let mesh: Mesh | undefined;
  try {
    const port = await new Promise<number>((resolve, reject) => {
      echo.once('message', (m: { port: number }) => resolve(m.port));
      echo.once('exit', (code) => reject(new Error(`echo server exited with ${code}`)));
    });
    mesh = await createMesh({
      service: 'bench-mtls-client', namespace: 'bench', serviceAccount: 'bench-client', controlPlane: daemon.grpc,
      token: await createToken(daemon.admin, 'bench-client'), subscribe: ['echo'], shutdownSignals: [],
    });
    const tls = mesh.identity!.tls()!;
    const pool = new Pool(`https://127.0.0.1:${port}`, {
      connections: null,
      pipelining: 1,
      // The same chain check by OpenSSL; no hostname (the server's certificate names a SPIFFE ID).
      connect: { key: tls.keyPem, cert: tls.chainPem, ca: tls.bundlePem, rejectUnauthorized: true, checkServerIdentity: () => undefined },
    });
    const client = mesh;
    return {
      port,
      echoPid: echo.pid!,
      mesh: client,
      tls,
      pool,
      strict: async () => {
        await applyYaml(daemon.admin, 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: echo-strict, namespace: bench}\nspec:\n  selector: {matchLabels: {app: echo}}\n  mtls: {mode: STRICT}\n');
        await sleep(200);
      },
      permissive: async () => {
        await adminFetch(`${daemon.admin}/v1/resources/peerauthentications/bench/echo-strict`, { method: 'DELETE' });
        await sleep(200);
      },
      close: async () => {
        await client.close();
        await pool.close();
        await stopChild(echo);
      },
    };
  } catch (e) {
    await mesh?.close();
    await stopChild(echo);
    throw e;
  }
}

/**
 * Warms every variant (pools, handshakes, JIT), then runs each for `seconds` in `rounds` rounds, the
 * order rotated each round so that no variant always follows the same neighbour. `around`, if given,
 * wraps each measured run (e.g. to read CPU time before and after it).
 */
export async function interleave(
  variants: Record<string, () => Promise<void>>,
  opts: MtlsBenchOptions,
  around: (name: string, run: () => Promise<LoadResult>) => Promise<LoadResult> = (_name, run) => run(),
): Promise<Record<string, LoadResult[]>> {
  for (const send of Object.values(variants)) await closedLoop(send, opts.concurrency, opts.warmupMs ?? 300);
  const runs: Record<string, LoadResult[]> = {};
  const order = Object.entries(variants);
  for (let r = 0; r < opts.rounds; r++) {
    for (let i = 0; i < order.length; i++) {
      const [name, send] = order[(i + r) % order.length]!;
      if (opts.rewarmMs) await closedLoop(send, opts.concurrency, opts.rewarmMs);
      (runs[name] ??= []).push(await around(name, () => closedLoop(send, opts.concurrency, opts.seconds * 1000)));
    }
  }
  return runs;
}

export async function benchMtls(daemon: Daemon, opts: MtlsBenchOptions): Promise<Record<string, number>> {
  const setup = await startMtlsEcho(daemon);
  try {
    const { mesh, pool } = setup;
    const variants: Record<string, () => Promise<void>> = {
      'mtls.bare_pool': async () => void (await (await pool.request({ path: '/', method: 'GET' })).body.text()),
      'mtls.mesh': async () => {
        const r = await mesh.request('http://echo/');
        await r.body.text();
      },
    };
    // STRICT on the echo workload: a mesh request that went in plaintext would fail and count as an
    // error, so the figures are those of mTLS (both ends hold a certificate: auto-mTLS). Removed at the end.
    await setup.strict();
    const runs = await interleave(variants, opts);
    const rps = (name: string) => runs[name]!.reduce((s, x) => s + x.requests, 0) / runs[name]!.reduce((s, x) => s + x.seconds, 0);
    const errors = (name: string) => runs[name]!.reduce((s, x) => s + x.errors, 0);
    const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
    await setup.permissive();
    if (errors('mtls.mesh') + errors('mtls.bare_pool') > 0) throw new Error(`mtls bench: ${errors('mtls.mesh')} mesh and ${errors('mtls.bare_pool')} bare requests failed`);
    return {
      'mtls.mesh.rps': Math.round(rps('mtls.mesh')),
      'mtls.bare_pool.rps': Math.round(rps('mtls.bare_pool')),
      'mtls.mesh.errors': errors('mtls.mesh'),
      'mtls.bare_pool.errors': errors('mtls.bare_pool'),
      'mtls.throughput_ratio': round(rps('mtls.mesh') / rps('mtls.bare_pool')),
    };
  } finally {
    await setup.close();
  }
}
