// Transport: the terminal Handler. One undici Pool per endpoint origin, kept alive and reused across
// requests; `pool.request()` (the dispatcher API, not fetch) keeps the per-request cost low.
// Connection-level failures become WeftErrors with Envoy's flags (UF: could not connect, UR: reset).
import { Pool } from 'undici';
import { WeftError } from '../errors.js';
import type { Handler, OutboundRequest, OutboundResponse } from './pipeline.js';

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
const RESET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);

export interface TransportOptions {
  /** Keep-alive connections per origin. */
  connections?: number;
}

export class Transport {
  private readonly pools = new Map<string, Pool>();
  private closed = false;

  constructor(private readonly options: TransportOptions = {}) {}

  readonly handler: Handler = async (req) => {
    const origin = req.endpoint!.origin;
    let pool = this.pools.get(origin);
    if (pool === undefined) pool = this.open(origin);
    try {
      return (await pool.request({
        path: req.target.path,
        method: req.method as 'GET',
        headers: req.headers,
        body: req.body,
        signal: req.signal,
      })) as unknown as OutboundResponse;
    } catch (e) {
      throw mapError(e, req);
    }
  };

  /** Closes the pools of origins that left every view (in-flight requests finish first). */
  retain(liveOrigins: ReadonlySet<string>): void {
    for (const [origin, pool] of this.pools) {
      if (!liveOrigins.has(origin)) {
        this.pools.delete(origin);
        pool.close().catch(() => undefined);
      }
    }
  }

  /** Graceful close: waits up to `graceMs` for in-flight requests, then destroys what is left. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(
      pools.map(async (pool) => {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)));
        const done = await Promise.race([pool.close().then(() => false, () => false), timedOut]);
        clearTimeout(timer);
        if (done) await pool.destroy().catch(() => undefined);
      }),
    );
  }

  private open(origin: string): Pool {
    if (this.closed) throw new WeftError('MESH_CLOSED', 'the mesh is closed');
    const pool = new Pool(origin, { connections: this.options.connections ?? null, pipelining: 1 });
    this.pools.set(origin, pool);
    return pool;
  }
}

function mapError(e: unknown, req: OutboundRequest): unknown {
  const code = (e as { code?: string } | null)?.code;
  const where = `${req.route?.host ?? req.target.host} at ${req.endpoint!.origin}`;
  if (code !== undefined && CONNECT_ERRORS.has(code)) {
    return new WeftError('UPSTREAM_CONNECT_FAILURE', `upstream connect error for ${where}: ${code}`, { cause: e });
  }
  if (code !== undefined && RESET_ERRORS.has(code)) {
    return new WeftError('UPSTREAM_RESET', `upstream reset for ${where}: ${(e as Error).message}`, { cause: e });
  }
  return e; // aborts (the caller's signal) and argument errors pass through as undici raised them
}
