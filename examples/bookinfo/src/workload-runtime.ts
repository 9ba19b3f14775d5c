// Runs one Bookinfo service as a mesh workload: its own createMesh (identity, labels) and mesh.serve.
import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMesh } from '@weft/sdk';
import type { Env, FetchLike } from './upstream.js';

export const BOOKINFO_NAMESPACE = 'default';
/** The Kubernetes Service port every Bookinfo service has; callers address `http://<svc>:9080`. */
export const SERVICE_PORT = 9080;

export interface StartOptions {
  /** host:port of weftd's session server; defaults to WEFT_CONTROL_PLANE. */
  controlPlane?: string;
  /** Version label; each service's default is v1. */
  version?: string;
  /** Listening port; 0 (the default) picks a free one. */
  port?: number;
  host?: string;
  namespace?: string;
  /** Environment the service reads (HOSTNAME, *_HOSTNAME, SERVICES_DOMAIN...); defaults to process.env. */
  env?: Env;
  /** A join token for bookinfo-<service> (several workloads in one process cannot share WEFT_TOKEN). */
  token?: string;
}

export interface RunningWorkload {
  service: string;
  version: string;
  /** `<service>-<version>`, as the Kubernetes Deployment is named. */
  workloadName: string;
  /** http://127.0.0.1:<port>: where the workload listens (plain HTTP, for browsers and tests). */
  url: string;
  port: number;
  server: Server;
  /** Stops serving and deregisters from the mesh. */
  close(): Promise<void>;
}

/** What a handler factory gets: the mesh's fetch for its upstream calls and the environment. */
export interface WorkloadContext {
  fetch: FetchLike;
  env: Env;
}

export type HandlerFactory = (ctx: WorkloadContext) => RequestListener;

/**
 * `upstreams` are the hosts the service calls (as in its URLs); subscribing them up front means the
 * first request does not wait for discovery.
 */
export async function startWorkload(
  service: string,
  makeHandler: HandlerFactory,
  opts: StartOptions,
  upstreams: readonly string[] = [],
): Promise<RunningWorkload> {
  const version = opts.version ?? 'v1';
  const workloadName = `${service}-${version}`;
  const env = opts.env ?? process.env;
  const mesh = await createMesh({
    service,
    namespace: opts.namespace ?? BOOKINFO_NAMESPACE,
    labels: { app: service, version },
    serviceAccount: `bookinfo-${service}`,
    workloadName,
    subscribe: [...upstreams],
    ...(opts.controlPlane ? { controlPlane: opts.controlPlane } : {}),
    ...(opts.token ? { token: opts.token } : {}),
  });
  try {
    const fetch: FetchLike = (input, init) => mesh.fetch(input, init);
    const server = await mesh.serve(makeHandler({ fetch, env }), {
      port: opts.port ?? 0,
      host: opts.host ?? '127.0.0.1',
      servicePort: SERVICE_PORT,
    });
    const { address, port } = server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    return {
      service,
      version,
      workloadName,
      url: `http://${host}:${port}`,
      port,
      server,
      close: () => mesh.close(),
    };
  } catch (err) {
    await mesh.close().catch(() => undefined);
    throw err;
  }
}
