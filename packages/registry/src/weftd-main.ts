// `weftd`: the Weft control plane daemon. Flags → startDaemon → the address lines tests and users read.
import { resolve } from 'node:path';
import {
  DEFAULT_ADMIN_PORT,
  DEFAULT_GRPC_PORT,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS_PER_PEER,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_MAX_STREAMS_PER_CONNECTION,
  parseDuration,
} from '@weft/api';
import { validateTrustDomain } from '@weft/ca';
import { keepRunningWithoutOutput } from './cli/broken-pipe.js';
import { formatFlagHelp, isUsageError, parseFlags, parsePortFlag, UsageError, type FlagSpec } from './cli/flags.js';
import { startDaemon, type DaemonOptions } from './daemon.js';
import { repairStore } from './store/store-repair.js';

const FLAGS: FlagSpec[] = [
  { name: 'data-dir', value: 'DIR', description: 'directory of the config store (created if missing)', default: '.weft-data' },
  { name: 'port', value: 'N', description: 'gRPC session server port (0 = any free port)', default: String(DEFAULT_GRPC_PORT) },
  { name: 'admin-port', value: 'N', description: 'admin HTTP API port (0 = any free port)', default: String(DEFAULT_ADMIN_PORT) },
  { name: 'host', value: 'ADDR', description: 'address both servers listen on', default: '127.0.0.1' },
  { name: 'endpoint-grace', value: 'DURATION', description: "how long a broken session's endpoints stay (e.g. 500ms, 1s, 2m)", default: '1s' },
  { name: 'keepalive', value: 'DURATION', description: 'gRPC keepalive ping interval and timeout for sessions', default: '1s' },
  { name: 'handshake-timeout', value: 'DURATION', description: 'a session must say Hello (and a connection carry one that did) within this', default: `${DEFAULT_HANDSHAKE_TIMEOUT_MS / 1000}s` },
  { name: 'max-sessions', value: 'N', description: 'sessions weftd holds at once', default: String(DEFAULT_MAX_SESSIONS) },
  { name: 'max-connections-per-peer', value: 'N', description: 'TCP connections from one address (all workloads of a host share it)', default: String(DEFAULT_MAX_CONNECTIONS_PER_PEER) },
  { name: 'max-streams-per-connection', value: 'N', description: 'session streams on one connection', default: String(DEFAULT_MAX_STREAMS_PER_CONNECTION) },
  { name: 'trust-domain', value: 'DOMAIN', description: 'SPIFFE trust domain of the mesh CA (spiffe://DOMAIN/ns/NS/sa/SA)', default: 'cluster.local' },
  { name: 'rotation-wait', value: 'DURATION', description: 'how long a root rotation waits for every workload to hold the new root before it signs', default: '30s' },
  { name: 'cert-ttl', value: 'DURATION', description: 'lifetime of workload certificates (e.g. 24h, 1h, 90s); workloads renew at half of it', default: '24h' },
  { name: 'ca-cert', value: 'FILE', description: "the operator's CA certificate (PEM; an intermediate with its chain up to the root appended) instead of <data-dir>/ca" },
  { name: 'ca-key', value: 'FILE', description: "the operator's CA private key (PEM, unencrypted), with --ca-cert" },
  {
    name: 'repair-store',
    description:
      'repair the store in --data-dir after weftd refused it as damaged: keeps what is intact, moves damaged files aside, ' +
      'reports what is lost, then exits (it does not start serving)',
  },
  { name: 'help', short: 'h', description: 'print this help' },
];

const USAGE = `usage: weftd [flags]

Weft's control plane: the service registry, the config store and the push of both to every workload.

flags:
${formatFlagHelp(FLAGS)}`;

/** What weftd was asked to do: serve, print help, or repair a store and exit. */
export type WeftdCommand = DaemonOptions | 'help' | { repairStore: string };

export function parseWeftdArgs(argv: readonly string[]): WeftdCommand {
  const { values, positionals } = parseFlags(argv, FLAGS);
  if (values.has('help')) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} (weftd takes only flags)`);
  const one = (name: string, fallback: string) => values.get(name)?.[0] ?? fallback;
  const duration = (name: string, fallback = '1s') => {
    try {
      return parseDuration(one(name, fallback));
    } catch (e) {
      throw new UsageError(`--${name}: ${(e as Error).message}`);
    }
  };
  const count = (name: string, fallback: number) => {
    const text = one(name, String(fallback));
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name}: ${JSON.stringify(text)} is not a whole number of at least 1`);
    return n;
  };
  const host = one('host', '127.0.0.1');
  if (!host) throw new UsageError('--host must not be empty');
  const dataDir = one('data-dir', '.weft-data');
  if (!dataDir) throw new UsageError('--data-dir must not be empty');
  if (values.has('repair-store')) {
    if (!values.has('data-dir')) throw new UsageError('--repair-store needs --data-dir: name the data dir to repair');
    return { repairStore: resolve(dataDir) };
  }
  return {
    dataDir: resolve(dataDir),
    host,
    grpcPort: parsePortFlag('port', one('port', String(DEFAULT_GRPC_PORT))),
    adminPort: parsePortFlag('admin-port', one('admin-port', String(DEFAULT_ADMIN_PORT))),
    endpointGraceMs: duration('endpoint-grace'),
    keepaliveMs: Math.max(1, duration('keepalive')),
    handshakeTimeoutMs: Math.max(1, duration('handshake-timeout', `${DEFAULT_HANDSHAKE_TIMEOUT_MS}ms`)),
    maxSessions: count('max-sessions', DEFAULT_MAX_SESSIONS),
    maxConnectionsPerPeer: count('max-connections-per-peer', DEFAULT_MAX_CONNECTIONS_PER_PEER),
    maxStreamsPerConnection: count('max-streams-per-connection', DEFAULT_MAX_STREAMS_PER_CONNECTION),
    ...identityFlags(values, duration),
  };
}

function identityFlags(values: Map<string, string[]>, duration: (name: string, fallback: string) => number): Pick<DaemonOptions, 'trustDomain' | 'certTtlSeconds' | 'caCertFile' | 'caKeyFile' | 'rotationWaitMs'> {
  const trustDomain = values.get('trust-domain')?.[0] ?? 'cluster.local';
  try {
    validateTrustDomain(trustDomain);
  } catch (e) {
    throw new UsageError(`--trust-domain: ${(e as Error).message}`);
  }
  const ttlMs = duration('cert-ttl', '24h');
  if (ttlMs < 1000 || ttlMs % 1000 !== 0) throw new UsageError(`--cert-ttl: ${ttlMs} ms is not a whole number of seconds of at least 1 (e.g. 24h, 90s)`);
  const caCertFile = values.get('ca-cert')?.[0];
  const caKeyFile = values.get('ca-key')?.[0];
  if (Boolean(caCertFile) !== Boolean(caKeyFile)) throw new UsageError('--ca-cert and --ca-key go together: give both files, or neither to use the CA in --data-dir');
  return {
    trustDomain,
    certTtlSeconds: ttlMs / 1000,
    rotationWaitMs: duration('rotation-wait', '30s'),
    caCertFile: caCertFile ? resolve(caCertFile) : undefined,
    caKeyFile: caKeyFile ? resolve(caKeyFile) : undefined,
  };
}

export async function main(argv: readonly string[]): Promise<void> {
  keepRunningWithoutOutput();
  let opts: WeftdCommand;
  try {
    opts = parseWeftdArgs(argv);
  } catch (e) {
    if (!isUsageError(e)) throw e;
    process.stderr.write(`weftd: ${e.message}\nRun 'weftd --help' for usage.\n`);
    process.exit(2);
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if ('repairStore' in opts) return repair(opts.repairStore);
  let daemon;
  try {
    daemon = await startDaemon(opts);
  } catch (e) {
    process.stderr.write(`weftd: ${(e as Error).message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // Shutdown must finish promptly even if something hangs; the store is fsync'd per write anyway.
    setTimeout(() => {
      process.stderr.write('weftd: shutdown took too long, exiting\n');
      process.exit(0);
    }, 1500).unref();
    daemon
      .close()
      .then(() => {
        process.stderr.write(`weftd: stopped (${signal})\n`);
        process.exit(0);
      })
      .catch((e: unknown) => {
        process.stderr.write(`weftd: error while stopping: ${String(e)}\n`);
        process.exit(1);
      });
  };
  // Before the lines that say weftd is up: a SIGTERM sent as soon as they are read must stop it cleanly.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const shown = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  process.stdout.write(
    `weftd: control plane listening on ${shown}:${daemon.grpcPort} (gRPC)\n` +
      `weftd: admin API listening on https://${shown}:${daemon.adminPort}\n` +
      `weftd: admin credential ${daemon.adminCredential.created ? 'written to' : 'in'} ${daemon.adminCredential.path} (weftctl --credentials FILE, or WEFT_CREDENTIALS)\n` +
      `weftd: mesh CA: ${daemon.ca.source}, trust domain ${daemon.ca.trustDomain}\n` +
      `weftd: ready (data dir ${opts.dataDir}, store revision ${daemon.store.revision})\n`,
  );
}

async function repair(dataDir: string): Promise<void> {
  try {
    const report = await repairStore(dataDir);
    for (const line of report.lines) process.stdout.write(`weftd: ${line}\n`);
    process.stdout.write(report.repaired ? 'weftd: repair done; start weftd as usual to serve this store\n' : '');
  } catch (e) {
    process.stderr.write(`weftd: --repair-store failed: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
