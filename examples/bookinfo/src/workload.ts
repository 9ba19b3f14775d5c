#!/usr/bin/env node
// One Bookinfo workload as a process: `node dist/workload.js <service> [--version vN] [--port N] [--host H]`.
// The control plane comes from WEFT_CONTROL_PLANE, the identity from WEFT_TOKEN (a join token for
// bookinfo-<service>). Its ready line names its SPIFFE ID, and it logs each caller the first time it
// sees it (principal over mTLS, or plaintext), and the first mirrored copy it gets (a Host ending in
// -shadow), so the demo can show who called whom. SIGTERM/SIGINT close the mesh (deregistering) and exit.
import type { IncomingMessage } from 'node:http';
import { parseArgs } from 'node:util';
import type { PeerIdentity } from '@weft/sdk';
import { startDetails } from './details.js';
import { startProductPage } from './productpage.js';
import { RATINGS_FAULTY_PERCENT, startRatings } from './ratings.js';
import { REVIEWS_VERSIONS, startReviews, type ReviewsVersion } from './reviews.js';
import { BOOKINFO_NAMESPACE, missingTokenMessage, type RunningWorkload, type StartOptions } from './workload-runtime.js';

const SERVICES = ['productpage', 'details', 'reviews', 'ratings'] as const;
type Service = (typeof SERVICES)[number];

const USAGE = `usage: workload.js <${SERVICES.join('|')}> [--version vN] [--port N] [--host H]
  --version  version label; reviews: v1 (no stars), v2 (black), v3 (red); others: v1 (default v1,
             or SERVICE_VERSION)
  --port     listening port (default 0: any free port)
  --host     listening address (default 127.0.0.1)
Environment:
  WEFT_CONTROL_PLANE  weftd's session address (host:port)
  WEFT_TOKEN          a join token for the workload's identity, service account bookinfo-<service>:
                      WEFT_TOKEN=$(weftctl token create --namespace ${BOOKINFO_NAMESPACE} --service-account bookinfo-<service>)
  ${RATINGS_FAULTY_PERCENT}  ratings only, a test hook: answer 503 on this percentage of GET /ratings
                      (50 behaves as Istio's ratings image v-faulty); for trying retries and outlier detection`;

/** At most this many distinct callers are logged; a workload called by more says so once. */
const MAX_LOGGED_CALLERS = 20;

class UsageError extends Error {}

function parsePort(text: string | undefined): number {
  if (text === undefined) return 0;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`--port must be an integer 0..65535, got "${text}"`);
  return port;
}

/** A usage error for a version this service does not have. */
function checkVersion(service: Service, version: string): void {
  if (service === 'reviews') {
    if (!REVIEWS_VERSIONS.includes(version as ReviewsVersion)) {
      throw new UsageError(`reviews --version must be one of ${REVIEWS_VERSIONS.join(', ')}, got "${version}"`);
    }
    return;
  }
  // Only v1 of these is implemented; a different label would advertise behaviour that is not there.
  if (version !== 'v1') throw new UsageError(`${service} has only version v1, got "${version}"`);
}

function start(service: Service, version: string, opts: StartOptions): Promise<RunningWorkload> {
  // reviews prints its failed ratings calls, as the original does (with the mesh's response flags).
  if (service === 'reviews') return startReviews({ ...opts, version: version as ReviewsVersion, log: (line) => console.log(`${service}-${version}: ${line}`) });
  const starters = { productpage: startProductPage, details: startDetails, ratings: startRatings };
  return starters[service]({ ...opts, version });
}

/** A mirrored copy's Host: the service's host with -shadow appended, before any port (`reviews-shadow:9080`). */
const SHADOW_HOST = /^[^:]*-shadow(?::\d+)?$/;

/**
 * Logs each distinct caller once: `details-v1: first request from <principal> over mTLS` (or plaintext),
 * and the first mirrored copy: `reviews-v2: first mirrored request (Host reviews-shadow:9080)`.
 */
function callerLogger(workloadName: string): (caller: PeerIdentity | null, req: IncomingMessage) => void {
  const seen = new Set<string>();
  let mirrored = false;
  return (caller, req) => {
    const host = req.headers.host ?? '';
    if (!mirrored && SHADOW_HOST.test(host)) {
      mirrored = true;
      console.log(`${workloadName}: first mirrored request (Host ${host})`);
    }
    const key = caller?.principal ?? '';
    if (seen.has(key) || seen.size > MAX_LOGGED_CALLERS) return;
    seen.add(key);
    if (seen.size > MAX_LOGGED_CALLERS) console.log(`${workloadName}: more than ${MAX_LOGGED_CALLERS} distinct callers; logging no more`);
    else console.log(`${workloadName}: first request ${caller ? `from ${caller.principal} over mTLS` : 'in plaintext (no client certificate)'}`);
  };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      version: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const service = positionals[0];
  if (positionals.length !== 1 || !SERVICES.includes(service as Service)) {
    throw new UsageError(service ? `unknown service "${positionals.join(' ')}"` : 'missing the service to run');
  }
  const version = values.version ?? process.env.SERVICE_VERSION ?? 'v1';
  checkVersion(service as Service, version);
  const port = parsePort(values.port);
  if (!process.env.WEFT_CONTROL_PLANE) throw new UsageError('WEFT_CONTROL_PLANE is not set (host:port of weftd)');
  if (!process.env.WEFT_TOKEN) throw new UsageError(missingTokenMessage(BOOKINFO_NAMESPACE, `bookinfo-${service}`));
  const name = `${service}-${version}`;
  const workload = await start(service as Service, version, {
    port,
    host: values.host ?? '127.0.0.1',
    onCaller: callerLogger(name),
  });
  console.log(`${workload.workloadName} listening on ${workload.url} as ${workload.identity}`);

  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    // Bound the drain so a stuck connection cannot keep a stopped workload alive.
    const forceExit = setTimeout(() => process.exit(1), 5_000);
    forceExit.unref();
    workload.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`${workload.workloadName}: error while closing on ${signal}: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) console.error(`workload: ${err.message}\n${USAGE}`);
  else console.error(`workload: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
