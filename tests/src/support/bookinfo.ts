// Every Bookinfo workload in this process, each on its own mesh session (real sockets) with its own
// identity (a join token for bookinfo-<service>, as Istio's Bookinfo gives each service its account),
// registered with the given weftd before it returns. reviews pods are named `reviews-<version>-<tag>`.
// Each workload's server records the Host of every request it answers, so a test can count what reached
// it (mirrored copies carry `<service>-shadow`).
import { BOOKINFO_NAMESPACE, configRevision, startDetails, startProductPage, startRatings, startReviews, waitForConfig, waitForInstances, weftctlApply, type RunningWorkload } from '@weft/bookinfo';
import type { IncomingMessage } from 'node:http';
import { createToken, type WeftdHandle } from './weftd.js';

export interface InProcessBookinfo {
  workloads: RunningWorkload[];
  /** workloadName (e.g. `reviews-v2`) → its URL. */
  url: Record<string, string>;
  /** workloadName → the Host header of each request it received so far, in order. */
  hosts: Record<string, string[]>;
  close(): Promise<void>;
}

/** A join token for Bookinfo's service account of `service` (bookinfo-<service> in namespace default). */
export function bookinfoToken(weftd: WeftdHandle, service: string): Promise<string> {
  return createToken(weftd.adminUrl, BOOKINFO_NAMESPACE, `bookinfo-${service}`);
}

export async function startBookinfo(weftd: WeftdHandle, tag: string): Promise<InProcessBookinfo> {
  const controlPlane = weftd.grpcAddress;
  const token = (service: string) => bookinfoToken(weftd, service);
  const started = await Promise.allSettled([
    startRatings({ controlPlane, token: await token('ratings') }),
    startDetails({ controlPlane, token: await token('details') }),
    ...(['v1', 'v2', 'v3'] as const).map(async (version) =>
      startReviews({ controlPlane, version, token: await token('reviews'), env: { HOSTNAME: `reviews-${version}-${tag}`, CLUSTER_NAME: undefined } }),
    ),
    startProductPage({ controlPlane, token: await token('productpage') }),
  ]);
  const workloads = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const close = () => Promise.all(workloads.map((w) => w.close())).then(() => undefined);
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    await waitForInstances(weftd, Object.fromEntries(workloads.map((w) => [w.workloadName, 1])), { timeoutMs: 15_000 });
  } catch (e) {
    await close();
    throw e;
  }
  const hosts: Record<string, string[]> = {};
  for (const w of workloads) {
    const seen = (hosts[w.workloadName] = [] as string[]);
    w.server.on('request', (req: IncomingMessage) => seen.push(req.headers.host ?? ''));
  }
  return { workloads, url: Object.fromEntries(workloads.map((w) => [w.workloadName, w.url])), hosts, close };
}

/** Applies Bookinfo networking files in order (one weftctl apply each) and waits until productpage and reviews ACK the result. */
export async function applyNetworkingFiles(weftd: WeftdHandle, ...files: string[]): Promise<void> {
  for (const file of files) await weftctlApply(weftd, [file]);
  await waitForConfig(weftd, await configRevision(weftd), ['productpage', 'reviews'], { timeoutMs: 10_000 });
}
