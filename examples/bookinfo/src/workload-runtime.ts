// Runs one Bookinfo service as a mesh workload: its own createMesh (identity, labels) and mesh.serve.
// A workload serves, so it needs its identity: a join token for service account bookinfo-<service>
// (StartOptions.token, else WEFT_TOKEN), as Istio's bookinfo.yaml gives each service its own account.
// Its calls get the mesh's failures as statuses (fetchErrors: 'status'), as the original's calls through
// a sidecar get Envoy's local replies.
import type { IncomingMessage, RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMesh, type PeerIdentity } from '@weft/sdk';
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
  /** A join token for bookinfo-<service>; default WEFT_TOKEN (several workloads in one process cannot share it). */
  token?: string;
  /**
   * Called with each request's verified caller (its certificate's identity; null for plaintext) and the
   * request, before the handler; requests an AuthorizationPolicy denies never get here.
   */
  onCaller?: (caller: PeerIdentity | null, req: IncomingMessage) => void;
}

export interface RunningWorkload {
  service: string;
  version: string;
  /** `<service>-<version>`, as the Kubernetes Deployment is named. */
  workloadName: string;
  /** http://127.0.0.1:<port>: where the workload listens (plain HTTP, for browsers and tests). */
  url: string;
  port: number;
  /** The workload's SPIFFE ID, from its certificate (spiffe://cluster.local/ns/default/sa/bookinfo-<service>). */
  identity: string;
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

/** Why a workload without a join token cannot start, and the command that makes one. */
export function missingTokenMessage(namespace: string, serviceAccount: string): string {
  return (
    `no join token: a workload serves, so it needs its identity (namespace ${namespace}, service account ${serviceAccount}). ` +
    `Set WEFT_TOKEN=$(weftctl token create --namespace ${namespace} --service-account ${serviceAccount})`
  );
}

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
  const namespace = opts.namespace ?? BOOKINFO_NAMESPACE;
  const serviceAccount = `bookinfo-${service}`;
  if (!opts.token && !process.env.WEFT_TOKEN) throw new Error(missingTokenMessage(namespace, serviceAccount));
  const mesh = await createMesh({
    service,
    namespace,
    labels: { app: service, version },
    serviceAccount,
    workloadName,
    subscribe: [...upstreams],
    // The original runs behind a sidecar: a failure of the mesh (no endpoint, overflow, a route timeout)
    // reaches it as Envoy's local reply (503, 504), which productpage passes on as its API's status.
    fetchErrors: 'status',
    ...(opts.controlPlane ? { controlPlane: opts.controlPlane } : {}),
    ...(opts.token ? { token: opts.token } : {}),
  });
  try {
    const fetch: FetchLike = (input, init) => mesh.fetch(input, init);
    const handler = makeHandler({ fetch, env });
    const { onCaller } = opts;
    const listener: RequestListener = onCaller
      ? (req, res) => {
          onCaller(mesh.peer(req), req);
          handler(req, res);
        }
      : handler;
    const server = await mesh.serve(listener, {
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
      // mesh.serve refuses a mesh without an identity, so there is one here.
      identity: mesh.status().identity?.spiffeId ?? '',
      server,
      close: () => mesh.close(),
    };
  } catch (err) {
    await mesh.close().catch(() => undefined);
    throw err;
  }
}
