// A small client of weftd's admin HTTP API for the demo and the Bookinfo tests: who is registered,
// which config version each session has ACKed.

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

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function listServices(adminUrl: string): Promise<RegisteredService[]> {
  return (await getJson<{ services: RegisteredService[] }>(`${adminUrl}/v1/services`)).services;
}

export async function listSessions(adminUrl: string): Promise<SessionConfigState[]> {
  return (await getJson<{ sessions: SessionConfigState[] }>(`${adminUrl}/v1/sessions`)).sessions;
}

/** Registered instances per workload name (e.g. `{ 'ratings-v1': 2 }`) in namespace `namespace`. */
export async function instancesByWorkload(adminUrl: string, namespace = 'default'): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const svc of await listServices(adminUrl)) {
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
export async function waitForInstances(adminUrl: string, expected: Record<string, number>, opts: WaitOptions = {}): Promise<void> {
  let last = new Map<string, number>();
  await pollUntil(
    async () => {
      last = await instancesByWorkload(adminUrl);
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
export async function configRevision(adminUrl: string): Promise<number> {
  // The store's revision, which every write (of any kind, deletes included) moves; /readyz reports it
  // with 200 or 503 alike.
  const res = await fetch(`${adminUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as { store?: { revision?: number } };
  if (typeof body.store?.revision !== 'number') throw new Error(`GET ${adminUrl}/readyz: no store revision in ${JSON.stringify(body)}`);
  return body.store.revision;
}

/**
 * Waits until every session of the given services (all sessions if none given) has ACKed config
 * version `revision` or later. A NACK of that version fails at once with its reason.
 */
export async function waitForConfig(adminUrl: string, revision: number, services?: readonly string[], opts: WaitOptions = {}): Promise<void> {
  let behind: SessionConfigState[] = [];
  await pollUntil(
    async () => {
      const sessions = (await listSessions(adminUrl)).filter((s) => !services || services.includes(s.service));
      const nacked = sessions.find((s) => s.config.nack && Number(s.config.nack.version) >= revision);
      if (nacked) throw new Error(`${nacked.instanceId} rejected config ${nacked.config.nack!.version}: ${nacked.config.nack!.error}`);
      behind = sessions.filter((s) => Number(s.config.ackedVersion || 0) < revision);
      return sessions.length > 0 && behind.length === 0 ? true : undefined;
    },
    () => `config ${revision} not yet ACKed by ${behind.map((s) => `${s.instanceId} (at ${s.config.ackedVersion || 'none'})`).join(', ') || 'any session'}`,
    opts,
  );
}
