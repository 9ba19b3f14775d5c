// Steady load for the tests that change something under traffic (certificate and root rotation): a few
// workers send one request at a time until stopped, and every answer that is not the expected one is
// kept as a failure, so a test can say "no request failed" and show the first failures if one did.
import type { Mesh } from '@weft/sdk';

export interface SteadyLoad {
  /** Stops the workers and resolves with what they saw. */
  stop(): Promise<{ ok: number; failures: string[] }>;
}

/** GETs `url` through `mesh` with `workers` in flight until stop() (or `maxMs`, a bound), expecting 200 and `body`. */
export function steadyLoad(mesh: Mesh, url: string, body: string, workers = 4, maxMs = 60_000): SteadyLoad {
  const failures: string[] = [];
  let ok = 0;
  let stopped = false;
  const until = Date.now() + maxMs;
  const running = Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = 0; i < 1_000_000 && !stopped && Date.now() < until; i++) {
        try {
          const r = await mesh.request(url);
          const text = await r.body.text();
          if (r.statusCode === 200 && text === body) ok++;
          else failures.push(`${r.statusCode} ${text}`);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    }),
  );
  return {
    stop: async () => {
      stopped = true;
      await running;
      return { ok, failures };
    },
  };
}
