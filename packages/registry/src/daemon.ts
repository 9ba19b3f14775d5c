// weftd as a library: opens the store, starts the session server and the admin API, and stops them
// in the right order. weftd-main.ts wraps it with flags and signals; benchmarks may embed it.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { TRUST_BUNDLE_FILE, writeFileAtomic } from '@weft/ca';

/** The trust bundle as PEM, for workloads without a join token (WEFT_CA_FILE) and for curl --cacert. */
export const CA_PEM_FILE = 'ca.pem';
import { ConfigService } from './config/config-service.js';
import { AdminServer } from './admin/admin-server.js';
import { EndpointRegistry } from './registry/endpoint-registry.js';
import { SessionServer } from './session/session-server.js';
import { FileStore } from './store/file-store.js';
import { CertificateIssuer } from './identity/certificate-issuer.js';
import { JoinTokenStore } from './identity/join-token-store.js';
import { MeshCa } from './identity/mesh-ca.js';
import { WeftdCertificate } from './identity/weftd-certificate.js';
import { RootRotation } from './identity/root-rotation.js';
import { AdminCredentialFile } from './admin/admin-credential.js';

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
  /** SPIFFE trust domain of the mesh CA (--trust-domain, default cluster.local). */
  trustDomain?: string;
  /** Lifetime of workload certificates in seconds (--cert-ttl, default 24 h). */
  certTtlSeconds?: number;
  /** The operator's CA instead of the one in <data-dir>/ca (--ca-cert, --ca-key). */
  caCertFile?: string;
  caKeyFile?: string;
  /** How long a root rotation waits for the sessions to ACK the new bundle (--rotation-wait, default 30 s). */
  rotationWaitMs?: number;
}

export interface Daemon {
  grpcPort: number;
  adminPort: number;
  store: FileStore;
  sessions: SessionServer;
  ca: MeshCa;
  tokens: JoinTokenStore;
  /** <data-dir>/admin.cred, and whether this start created it. */
  adminCredential: { path: string; created: boolean };
  /** Stops accepting, ends sessions, and closes the store (waiting for writes in flight). */
  close(): Promise<void>;
}

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`weftd: ${m}\n`));
  const ports = [
    { host: opts.host, port: opts.grpcPort, flag: '--port' },
    { host: opts.host, port: opts.adminPort, flag: '--admin-port' },
  ];
  // Before the data dir is touched: a start that cannot listen must not leave store files behind.
  await checkPortsFree(ports);
  const store = await FileStore.open(opts.dataDir, { warn: log });
  const caDir = join(opts.dataDir, 'ca');
  const caIsNew = !opts.caCertFile && !existsSync(join(caDir, TRUST_BUNDLE_FILE));
  let ca: MeshCa;
  let tokens: JoinTokenStore;
  let serving: WeftdCertificate;
  let credential: { file: AdminCredentialFile; created: boolean };
  try {
    ca = await MeshCa.open({ dataDir: opts.dataDir, trustDomain: opts.trustDomain ?? 'cluster.local', caCertFile: opts.caCertFile, caKeyFile: opts.caKeyFile });
    tokens = await JoinTokenStore.open(opts.dataDir);
    serving = await WeftdCertificate.issue(ca, { host: opts.host, ttlSeconds: opts.certTtlSeconds ?? 24 * 3600, log });
    credential = await AdminCredentialFile.open(opts.dataDir, ca.bundle.pem);
    await writeFileAtomic(join(opts.dataDir, CA_PEM_FILE), ca.bundle.pem, 0o644);
  } catch (e) {
    await store.close();
    throw e;
  }
  // weftctl trusts weftd by the roots in admin.cred: a new bundle (a rotation) is written there too.
  ca.onBundleChange((bundle) => {
    writeFileAtomic(join(opts.dataDir, CA_PEM_FILE), bundle.pem, 0o644).catch((e: unknown) => log(`could not write the new trust bundle to ${join(opts.dataDir, CA_PEM_FILE)}: ${(e as Error).message}`));
    credential.file.setCa(bundle.pem).catch((e: unknown) => log(`could not write the new trust bundle to ${credential.file.path}: ${(e as Error).message}; weftctl will not trust weftd's next certificate until it is fixed`));
  });
  const issuer = new CertificateIssuer(ca, tokens, opts.certTtlSeconds ?? 24 * 3600);
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
    identity: { ca, issuer, serving },
  });
  const rotation = new RootRotation(ca, sessions, { waitMs: opts.rotationWaitMs ?? 30_000, log });
  const admin = new AdminServer({ config, registry, sessions, tokens, ca, security: { serving, credential: credential.file }, rotateCa: () => rotation.rotate() });
  let grpcPort: number;
  let adminPort: number;
  try {
    // The ports were free a moment ago; another process may still have taken one since.
    grpcPort = await sessions.listen(opts.host, opts.grpcPort).catch((e: unknown) => {
      throw listenError(ports[0]!, e);
    });
    adminPort = await admin.listen(opts.host, opts.adminPort).catch((e: unknown) => {
      throw listenError(ports[1]!, e);
    });
  } catch (e) {
    await sessions.close(0);
    await admin.close();
    registry.close();
    serving.close();
    rotation.close();
    if (credential.created) await rm(credential.file.path, { force: true });
    // A root made by this failed first start is no one's yet: leave the data dir as it was found.
    if (caIsNew && store.revision === 0) await rm(caDir, { recursive: true, force: true });
    await store.closeAndDiscardIfNew();
    throw e;
  }
  rotation.resume();
  let closing: Promise<void> | undefined;
  return {
    grpcPort,
    adminPort,
    store,
    sessions,
    ca,
    tokens,
    adminCredential: { path: credential.file.path, created: credential.created },
    close: () =>
      (closing ??= (async () => {
        serving.close();
        rotation.close();
        await Promise.all([admin.close(), sessions.close()]);
        registry.close();
        await store.close();
      })()),
  };
}

interface PortFlag {
  host: string;
  port: number;
  flag: string;
}

/** Binds and releases every fixed port, so a port in use is reported before anything else happens. */
async function checkPortsFree(ports: PortFlag[]): Promise<void> {
  const held: Server[] = [];
  try {
    for (const p of ports) {
      if (p.port === 0) continue;
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', (e) => reject(listenError(p, e)));
        server.listen({ host: p.host, port: p.port, exclusive: true }, () => resolve());
      });
      held.push(server); // held until all are checked: --port and --admin-port may name the same port
    }
  } finally {
    await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** One line that says which address and flag, what went wrong and what to do. */
function listenError(p: PortFlag, e: unknown): Error {
  const text = e instanceof Error ? e.message : String(e);
  const code = (e as NodeJS.ErrnoException | undefined)?.code ?? /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL)\b/.exec(text)?.[1];
  const why =
    code === 'EADDRINUSE'
      ? `address already in use; another weftd may be running (stop it, or choose another ${p.flag})`
      : code === 'EACCES'
        ? `permission denied (ports below 1024 need privileges; choose another ${p.flag})`
        : code === 'EADDRNOTAVAIL'
          ? 'this machine has no such address (check --host)'
          : text;
  const host = p.host.includes(':') ? `[${p.host}]` : p.host;
  return new Error(`cannot listen on ${host}:${p.port} (${p.flag}): ${why}`);
}
