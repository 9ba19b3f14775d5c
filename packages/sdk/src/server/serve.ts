// The server side: a node:http server whose listening address the mesh registers with weftd.
// AuthorizationPolicy wraps the listener (authorize.ts); mTLS is terminated in front of it
// (inbound-mtls.ts); inbound telemetry will wrap it here too.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EndpointMsg } from '@weft/api';
import { invalidArgument } from '../errors.js';
import { destroyUndecided } from './inbound-mtls.js';

export interface ServeOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The port callers name in URLs (Bookinfo: 9080); 0 (default) = any. */
  servicePort?: number;
  /** Address to register instead of the listening one. */
  advertiseAddress?: string;
}

export async function listen(server: http.Server, opts: ServeOptions): Promise<AddressInfo> {
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalidArgument(`serve: port must be 0..65535, got ${String(opts.port)}`);
  const servicePort = opts.servicePort ?? 0;
  if (!Number.isInteger(servicePort) || servicePort < 0 || servicePort > 65535) {
    throw invalidArgument(`serve: servicePort must be 0..65535, got ${String(opts.servicePort)}`);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

/** What weftd is told about a listening server; wildcard addresses register as loopback. */
export function endpointOf(addr: AddressInfo, opts: ServeOptions): EndpointMsg {
  const wildcard = addr.address === '0.0.0.0' || addr.address === '::';
  return {
    address: opts.advertiseAddress ?? (wildcard ? '127.0.0.1' : addr.address),
    port: addr.port,
    protocol: 'http',
    servicePort: opts.servicePort ?? 0,
  };
}

/** Per served server: whether it drains, and the responses still being written. */
interface DrainState {
  draining: boolean;
  inFlight: Set<http.ServerResponse>;
}

const drainStates = new WeakMap<http.Server, DrainState>();

/**
 * Tracks a server's in-flight responses so that drain() can end keep-alive politely: once draining,
 * every response (those in flight included, if their headers are not out yet) carries
 * `Connection: close`, so a caller's pooled connection is retired by the answer itself instead of
 * being cut under a request it is about to send.
 */
export function makeDrainable(server: http.Server): void {
  const state: DrainState = { draining: false, inFlight: new Set() };
  drainStates.set(server, state);
  server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    if (state.draining) res.shouldKeepAlive = false;
    state.inFlight.add(res);
    res.once('close', () => state.inFlight.delete(res));
  });
}

/** How many requests a served server is still answering. */
export function inFlightCount(server: http.Server): number {
  return drainStates.get(server)?.inFlight.size ?? 0;
}

/**
 * Stops accepting, answers what is in flight with `Connection: close`, closes idle keep-alive
 * connections as they become idle, and after `graceMs` cuts what is still open.
 */
export async function drain(server: http.Server, graceMs: number): Promise<void> {
  const state = drainStates.get(server);
  if (state) {
    state.draining = true;
    for (const res of state.inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
  }
  if (!server.listening) {
    server.closeAllConnections();
    destroyUndecided(server);
    return;
  }
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
  const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
  const result = await Promise.race([closed.then(() => 'closed' as const), timeout]);
  clearInterval(idleSweep);
  clearTimeout(timer);
  if (result === 'timeout') {
    server.closeAllConnections();
    destroyUndecided(server);
    await closed;
  }
}
