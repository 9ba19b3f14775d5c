// Every Bookinfo workload in this process, each on its own mesh session (real sockets), registered
// with the given weftd before it returns. reviews pods are named `reviews-<version>-<tag>`.
import { startDetails, startProductPage, startRatings, startReviews, waitForInstances, type RunningWorkload } from '@weft/bookinfo';
import type { WeftdHandle } from './weftd.js';

export interface InProcessBookinfo {
  workloads: RunningWorkload[];
  /** workloadName (e.g. `reviews-v2`) → its URL. */
  url: Record<string, string>;
  close(): Promise<void>;
}

export async function startBookinfo(weftd: WeftdHandle, tag: string): Promise<InProcessBookinfo> {
  const controlPlane = weftd.grpcAddress;
  const workloads = await Promise.all([
    startRatings({ controlPlane }),
    startDetails({ controlPlane }),
    ...(['v1', 'v2', 'v3'] as const).map((version) => startReviews({ controlPlane, version, env: { HOSTNAME: `reviews-${version}-${tag}`, CLUSTER_NAME: undefined } })),
    startProductPage({ controlPlane }),
  ]);
  const close = () => Promise.all(workloads.map((w) => w.close())).then(() => undefined);
  try {
    await waitForInstances(weftd.adminUrl, Object.fromEntries(workloads.map((w) => [w.workloadName, 1])), { timeoutMs: 15_000 });
  } catch (e) {
    await close();
    throw e;
  }
  return { workloads, url: Object.fromEntries(workloads.map((w) => [w.workloadName, w.url])), close };
}
