// pipeline.full_ratio: the cost of the resilience stages when all of them are configured. Two routes to
// the same echo workload, interleaved in rounds in one client: `http://echo/` takes the bare path
// (no VirtualService, no policy: route → pick → transport with the stages passing through), and
// `http://echo-full/` a VirtualService with a timeout and a retry policy to a subset whose
// DestinationRule policy has outlier detection and connection-pool limits (high enough never to
// trip), with the retry budget on (the default). Target >= 0.9.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createMesh } from '@weft/sdk';
import { interleave, type MtlsBenchOptions } from './mtls-throughput.js';
import { applyYaml, createToken, sleep, stopChild, type Daemon, type LoadResult } from './util.js';

const CONFIG = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: echo, namespace: bench}
spec:
  host: echo
  subsets:
  - name: full
    labels: {version: v1}
    trafficPolicy:
      connectionPool:
        tcp: {maxConnections: 10000, connectTimeout: 2s}
        http: {http1MaxPendingRequests: 10000, http2MaxRequests: 10000, maxRetries: 100}
      outlierDetection: {consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: echo-full, namespace: bench}
spec:
  hosts: [echo-full]
  http:
  - timeout: 5s
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: "5xx,connect-failure,reset"}
    route:
    - destination: {host: echo, subset: full}
`;

export async function benchPipelineFull(daemon: Daemon, opts: MtlsBenchOptions, config = CONFIG): Promise<Record<string, number>> {
  const echo = fork(fileURLToPath(new URL('./echo-server.js', import.meta.url)), [], {
    env: { ...process.env, WEFT_CONTROL_PLANE: daemon.grpc, WEFT_TOKEN: await createToken(daemon.admin, 'default') },
  });
  try {
    await new Promise<number>((resolve, reject) => {
      echo.once('message', (m: { port: number }) => resolve(m.port));
      echo.once('exit', (code) => reject(new Error(`echo server exited with ${code}`)));
    });
    await applyYaml(daemon.admin, config);
    // No token: plaintext, as the fetch bench, so the figures are those of the stages, not of TLS.
    const mesh = await createMesh({ service: 'bench-pipeline', namespace: 'bench', controlPlane: daemon.grpc, caFile: daemon.caFile, subscribe: ['echo'], shutdownSignals: [] });
    try {
      await sleep(300);
      const send = (url: string) => async () => {
        const r = await mesh.request(url);
        await r.body.text();
        if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`);
      };
      const runs = await interleave({ 'pipeline.bare': send('http://echo/'), 'pipeline.full': send('http://echo-full/') }, { ...opts, warmupMs: 1000 });
      const total = (name: string, f: (r: LoadResult) => number) => runs[name]!.reduce((s, r) => s + f(r), 0);
      const rps = (name: string) => total(name, (r) => r.requests) / total(name, (r) => r.seconds);
      const errors = total('pipeline.bare', (r) => r.errors) + total('pipeline.full', (r) => r.errors);
      if (errors > 0) throw new Error(`pipeline bench: ${errors} requests failed`);
      const round = (x: number) => Math.round(x * 1000) / 1000;
      return {
        'pipeline.bare.rps': Math.round(rps('pipeline.bare')),
        'pipeline.full.rps': Math.round(rps('pipeline.full')),
        'pipeline.full_ratio': round(rps('pipeline.full') / rps('pipeline.bare')),
        'pipeline.full.retries': mesh.stats().resilience.retries,
      };
    } finally {
      await mesh.close();
    }
  } finally {
    await stopChild(echo);
  }
}
