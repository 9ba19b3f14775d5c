// weftd as a library: opens the store, starts the session server and the admin API, and stops them
// in the right order. weftd-main.ts wraps it with flags and signals; benchmarks may embed it.
import { ConfigService } from './config/config-service.js';
import { AdminServer } from './admin/admin-server.js';
import { EndpointRegistry } from './registry/endpoint-registry.js';
import { SessionServer } from './session/session-server.js';
import { FileStore } from './store/file-store.js';

export interface DaemonOptions {
  dataDir: string;
  host: string;
  grpcPort: number;
  adminPort: number;
  endpointGraceMs: number;
  keepaliveMs: number;
  /** Session handshake deadline and per-peer limits (defaults in packages/api/src/limits.ts). */
  handshakeTimeoutMs?: number;
  maxSessions?: number;
  maxConnectionsPerPeer?: number;
  maxStreamsPerConnection?: number;
  log?: (message: string) => void;
}

export interface Daemon {
  grpcPort: number;
  adminPort: number;
  store: FileStore;
  sessions: SessionServer;
  /** Stops accepting, ends sessions, and closes the store (waiting for writes in flight). */
  close(): Promise<void>;
}

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`weftd: ${m}\n`));
  const store = await FileStore.open(opts.dataDir, { warn: log });
  const registry = new EndpointRegistry(opts.endpointGraceMs);
  const config = new ConfigService(store, log);
  const sessions = new SessionServer({
    config,
    registry,
    endpointGraceMs: opts.endpointGraceMs,
    keepaliveMs: opts.keepaliveMs,
    handshakeTimeoutMs: opts.handshakeTimeoutMs,
    maxSessions: opts.maxSessions,
    maxConnectionsPerPeer: opts.maxConnectionsPerPeer,
    maxStreamsPerConnection: opts.maxStreamsPerConnection,
    log,
  });
  const admin = new AdminServer({ config, registry, sessions });
  let grpcPort: number;
  let adminPort: number;
  try {
    grpcPort = await sessions.listen(opts.host, opts.grpcPort).catch((e: unknown) => {
      throw new Error(`cannot listen on ${opts.host}:${opts.grpcPort} (--port): ${(e as Error).message}`);
    });
    adminPort = await admin.listen(opts.host, opts.adminPort).catch((e: unknown) => {
      throw new Error(`cannot listen on ${opts.host}:${opts.adminPort} (--admin-port): ${(e as Error).message}`);
    });
  } catch (e) {
    await sessions.close(0);
    await admin.close();
    registry.close();
    await store.close();
    throw e;
  }
  let closing: Promise<void> | undefined;
  return {
    grpcPort,
    adminPort,
    store,
    sessions,
    close: () =>
      (closing ??= (async () => {
        await Promise.all([admin.close(), sessions.close()]);
        registry.close();
        await store.close();
      })()),
  };
}
