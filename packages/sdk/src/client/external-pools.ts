// Connection pools for origins outside the mesh (Istio's PassthroughCluster): one undici Pool per
// origin as written (`https://api.github.com:443`), with undici's own TLS for https (certificates
// checked against Node's trust store, SNI from the host). A host whose DestinationRule originates TLS
// (SIMPLE / MUTUAL) gets a pool per origin and settings, connecting with them (tls-origination.ts):
// different settings never share a connection. External origins come and go with what an app calls,
// not with weftd's views, so they are kept least-recently-used and bounded in number; an evicted pool
// closes gracefully (its in-flight requests finish).
import { Pool, type buildConnector } from 'undici';

/** How a pool connects when the caller's settings originate TLS: its key (origin and settings), and its connector. */
export interface PoolConnect {
  /** Unique for the origin and the settings together (made once, not per request). */
  readonly key: string;
  /** Called once, when the pool is made. */
  connector(): buildConnector.connector;
}

/** Distinct external origins kept open at once; an app calling more cycles through new connections. */
export const MAX_EXTERNAL_POOLS = 64;

export class ExternalPools {
  private readonly pools = new Map<string, Pool>();

  constructor(
    private readonly limit = MAX_EXTERNAL_POOLS,
    private readonly connections: number | null = null,
  ) {}

  get size(): number {
    return this.pools.size;
  }

  /** The pool of an origin (and settings), made on first use; marks it most recently used. */
  get(origin: string, connect?: PoolConnect): Pool {
    const key = connect?.key ?? origin;
    let pool = this.pools.get(key);
    if (pool !== undefined) {
      this.pools.delete(key);
      this.pools.set(key, pool);
      return pool;
    }
    if (this.pools.size >= this.limit) {
      const [oldest, evicted] = this.pools.entries().next().value as [string, Pool];
      this.pools.delete(oldest);
      evicted.close().catch(() => undefined);
    }
    pool = new Pool(origin, { connections: this.connections, pipelining: 1, ...(connect ? { connect: connect.connector() } : {}) });
    this.pools.set(key, pool);
    return pool;
  }

  /** Hands every pool over (for the transport's graceful close) and forgets them. */
  takeAll(): Pool[] {
    const all = [...this.pools.values()];
    this.pools.clear();
    return all;
  }
}
