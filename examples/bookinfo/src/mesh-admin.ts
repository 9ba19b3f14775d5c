// A small client of weftd's admin API for the demo and the Bookinfo tests: who is registered, which
// config version each session has ACKed, and join tokens for the workloads. The admin API is HTTPS with
// weftd's certificate from the mesh CA and wants the admin credential (<data-dir>/admin.cred: a bearer
// token and the roots to trust weftd by), as weftctl does: the file given, else WEFT_CREDENTIALS, else
// .weft-data/admin.cred in the working directory. The file is read at each call (a root rotation
// rewrites it).
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { PeerCertificate } from 'node:tls';
import { isWeftdSpiffeId } from '@weft/api';

/** Where weftd's admin API is and which credential to present; a bare URL takes the credential as weftctl does. */
export type AdminTarget = string | { adminUrl: string; credentialsFile?: string };

/** weftctl's default: weftd's default data dir, relative to where the command runs. */
export const DEFAULT_CREDENTIALS_FILE = '.weft-data/admin.cred';

interface Resolved {
  adminUrl: string;
  credentialsFile: string;
  /** Where the file name came from, for messages. */
  source: string;
}

/** The admin URL and credential file of a target (the file given, else WEFT_CREDENTIALS, else the default). */
export function resolveAdminTarget(target: AdminTarget): { adminUrl: string; credentialsFile: string } {
  const { adminUrl, credentialsFile } = resolve(target);
  return { adminUrl, credentialsFile };
}

function resolve(target: AdminTarget): Resolved {
  const adminUrl = (typeof target === 'string' ? target : target.adminUrl).replace(/\/+$/, '');
  if (!adminUrl.startsWith('https://')) throw new Error(`weftd's admin API is HTTPS: use https:// (got ${adminUrl})`);
  const given = typeof target === 'string' ? undefined : target.credentialsFile;
  if (given) return { adminUrl, credentialsFile: given, source: given };
  const fromEnv = process.env.WEFT_CREDENTIALS || undefined;
  if (fromEnv) return { adminUrl, credentialsFile: fromEnv, source: `WEFT_CREDENTIALS (${fromEnv})` };
  return { adminUrl, credentialsFile: DEFAULT_CREDENTIALS_FILE, source: `${DEFAULT_CREDENTIALS_FILE} in ${process.cwd()} (no credentials file given, WEFT_CREDENTIALS unset)` };
}

function readCredential(r: Resolved): { token: string; caPem: string } {
  let cred: { token?: unknown; caPem?: unknown };
  try {
    cred = JSON.parse(readFileSync(r.credentialsFile, 'utf8')) as typeof cred;
  } catch (e) {
    throw new Error(`cannot read weftd's admin credential from ${r.source}: ${(e as Error).message}; it is weftd's <data-dir>/admin.cred`);
  }
  if (typeof cred.token !== 'string' || typeof cred.caPem !== 'string') throw new Error(`${r.source} is not a weftd admin credential (no token or caPem); it is weftd's <data-dir>/admin.cred`);
  return { token: cred.token, caPem: cred.caPem };
}

/** weftd's certificate names no host to rely on; its SPIFFE ID says it is weftd and not some workload of the mesh. */
function checkWeftdIdentity(_host: string, cert: PeerCertificate): Error | undefined {
  const uris = String(cert.subjectaltname ?? '').split(', ').filter((n) => n.startsWith('URI:')).map((n) => n.slice(4));
  return uris.some(isWeftdSpiffeId) ? undefined : new Error(`the admin URL's certificate is not weftd's (it names ${uris.join(', ') || 'no SPIFFE ID'})`);
}

/** One keep-alive agent per set of roots (idle sockets do not keep the process alive). */
const agents = new Map<string, Agent>();

function agentFor(caPem: string): Agent {
  let agent = agents.get(caPem);
  if (!agent) agents.set(caPem, (agent = new Agent({ keepAlive: true, ca: caPem, checkServerIdentity: checkWeftdIdentity })));
  return agent;
}

/** One admin API call with the credential; resolves with the status and the parsed JSON body. */
async function call(target: AdminTarget, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; url: string }> {
  const r = resolve(target);
  const { token, caPem } = readCredential(r);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const url = new URL(`${r.adminUrl}${path}`);
  return new Promise((resolvePromise, reject) => {
    const req = request(
      url,
      {
        method,
        agent: agentFor(caPem),
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(payload ? { 'content-type': 'application/json' } : {}) },
        timeout: 5_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          try {
            resolvePromise({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined, url: url.href });
          } catch {
            reject(new Error(`${method} ${url.href}: ${res.statusCode}, not JSON: ${text.slice(0, 200)}`));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.href}: no answer within 5 s`)));
    req.on('error', (e) => reject(new Error(`${method} ${url.href}: ${e.message}`)));
    req.end(payload);
  });
}

async function getJson<T>(target: AdminTarget, path: string): Promise<T> {
  const { status, json, url } = await call(target, 'GET', path);
  if (status !== 200) throw new Error(`GET ${url}: ${status} ${JSON.stringify(json)}`);
  return json as T;
}

/**
 * A join token for (namespace, serviceAccount), as `weftctl token create` makes it. One token may
 * enrol several workloads of that identity (replicas, restarts) until it expires (`ttl`, e.g. `24h`).
 */
export async function createJoinToken(target: AdminTarget, namespace: string, serviceAccount: string, ttl = '1h'): Promise<string> {
  const { status, json } = await call(target, 'POST', '/v1/tokens', { namespace, serviceAccount, ttl });
  const token = (json as { token?: unknown } | undefined)?.token;
  if (status !== 200 || typeof token !== 'string') throw new Error(`POST /v1/tokens for ${namespace}/${serviceAccount}: ${status} ${JSON.stringify(json)}`);
  return token;
}

export interface RegisteredInstance {
  instanceId: string;
  workloadName: string;
  labels: Record<string, string>;
}

export interface RegisteredService {
  service: string;
  namespace: string;
  host: string;
  instances: RegisteredInstance[];
}

export interface SessionConfigState {
  service: string;
  instanceId: string;
  config: { sentVersion: string; ackedVersion: string; nack: { version: string; error: string } | null };
}

export async function listServices(admin: AdminTarget): Promise<RegisteredService[]> {
  return (await getJson<{ services: RegisteredService[] }>(admin, '/v1/services')).services;
}

export async function listSessions(admin: AdminTarget): Promise<SessionConfigState[]> {
  return (await getJson<{ sessions: SessionConfigState[] }>(admin, '/v1/sessions')).sessions;
}

/** Registered instances per workload name (e.g. `{ 'ratings-v1': 2 }`) in namespace `namespace`. */
export async function instancesByWorkload(admin: AdminTarget, namespace = 'default'): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const svc of await listServices(admin)) {
    if (svc.namespace !== namespace) continue;
    for (const inst of svc.instances) counts.set(inst.workloadName, (counts.get(inst.workloadName) ?? 0) + 1);
  }
  return counts;
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/** Polls `probe` until it returns a value other than undefined; rejects with `describe()` after the timeout. */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, describe: () => string, opts: WaitOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  const interval = opts.intervalMs ?? 50;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${opts.timeoutMs ?? 30_000} ms: ${describe()}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Waits until every named workload has at least the given number of registered instances. */
export async function waitForInstances(admin: AdminTarget, expected: Record<string, number>, opts: WaitOptions = {}): Promise<void> {
  let last = new Map<string, number>();
  await pollUntil(
    async () => {
      last = await instancesByWorkload(admin);
      return Object.entries(expected).every(([name, n]) => (last.get(name) ?? 0) >= n) ? true : undefined;
    },
    () => {
      const missing = Object.entries(expected).filter(([name, n]) => (last.get(name) ?? 0) < n);
      return `still waiting for ${missing.map(([name, n]) => `${name} (${last.get(name) ?? 0}/${n})`).join(', ')}`;
    },
    opts,
  );
}

/** weftd's store revision now: once a session ACKs this version it runs with everything applied so far. */
export async function configRevision(admin: AdminTarget): Promise<number> {
  // The store's revision, which every write (of any kind, deletes included) moves; /readyz reports it
  // with 200 or 503 alike.
  const { json, url } = await call(admin, 'GET', '/readyz');
  const body = json as { store?: { revision?: number } } | undefined;
  if (typeof body?.store?.revision !== 'number') throw new Error(`GET ${url}: no store revision in ${JSON.stringify(body)}`);
  return body.store.revision;
}

/**
 * Waits until every session of the given services (all sessions if none given) has ACKed config
 * version `revision` or later. A NACK of that version fails at once with its reason.
 */
export async function waitForConfig(admin: AdminTarget, revision: number, services?: readonly string[], opts: WaitOptions = {}): Promise<void> {
  let behind: SessionConfigState[] = [];
  await pollUntil(
    async () => {
      const sessions = (await listSessions(admin)).filter((s) => !services || services.includes(s.service));
      const nacked = sessions.find((s) => s.config.nack && Number(s.config.nack.version) >= revision);
      if (nacked) throw new Error(`${nacked.instanceId} rejected config ${nacked.config.nack!.version}: ${nacked.config.nack!.error}`);
      behind = sessions.filter((s) => Number(s.config.ackedVersion || 0) < revision);
      return sessions.length > 0 && behind.length === 0 ? true : undefined;
    },
    () => `config ${revision} not yet ACKed by ${behind.map((s) => `${s.instanceId} (at ${s.config.ackedVersion || 'none'})`).join(', ') || 'any session'}`,
    opts,
  );
}
