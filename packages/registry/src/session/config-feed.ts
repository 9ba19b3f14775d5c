// The ConfigUpdates of the store's current revision, each serialized once and shared by every session
// that gets it: the delta from the previous revision (built when the store changes) and the full
// snapshot (built lazily, only when some session needs it: a new stream, a session that missed the
// previous revision, or one that NACKed a delta).
import type { ConfigUpdateMsg, ResourceMsg } from '@weft/api';
import { toResourceMsg } from '../config/resource-views.js';
import type { FileStore } from '../store/file-store.js';
import type { StoreChange } from '../store/stored-resource.js';
import { serializeResponse } from './response-bytes.js';

export interface PreparedConfig {
  version: string;
  nonce: string;
  /** True for a delta; its base is `baseVersion`. */
  delta: boolean;
  baseVersion: string;
  bytes: Buffer;
}

/** What the feed reads: the committed state of the store. */
export type ConfigSource = Pick<FileStore, 'revision' | 'get' | 'values'>;

export class ConfigFeed {
  private fullSnapshot: PreparedConfig | undefined;
  private latestDelta: PreparedConfig | undefined;

  constructor(
    private readonly store: ConfigSource,
    private readonly nextNonce: () => string,
  ) {}

  /** The store's current revision, as the version string updates carry. */
  get version(): string {
    return String(this.store.revision);
  }

  /** Call on every store change (the store has already applied it): prepares the delta of that revision. */
  advance(change: StoreChange): void {
    const resources: ResourceMsg[] = [];
    const removed: string[] = [];
    for (const key of change.changedKeys) {
      const r = this.store.get(key);
      if (r) resources.push(toResourceMsg(r));
      else removed.push(key);
    }
    const config: ConfigUpdateMsg = {
      version: String(change.revision),
      nonce: this.nextNonce(),
      resources,
      delta: true,
      baseVersion: String(change.previousRevision),
      removed,
    };
    this.latestDelta = { version: config.version, nonce: config.nonce, delta: true, baseVersion: config.baseVersion, bytes: serializeResponse({ kind: 'config', config }) };
  }

  /** The full snapshot of the current revision, serialized at most once per revision. */
  full(): PreparedConfig {
    const version = this.version;
    if (this.fullSnapshot?.version !== version) {
      const config: ConfigUpdateMsg = { version, nonce: this.nextNonce(), resources: [...this.store.values()].map(toResourceMsg), delta: false, baseVersion: '', removed: [] };
      this.fullSnapshot = { version, nonce: config.nonce, delta: false, baseVersion: '', bytes: serializeResponse({ kind: 'config', config }) };
    }
    return this.fullSnapshot;
  }

  /**
   * What a session gets for the current revision: the delta when it accepts deltas and was last sent
   * exactly the delta's base, else the full snapshot.
   */
  updateFor(lastSentVersion: string, acceptsDeltas: boolean): PreparedConfig {
    const d = this.latestDelta;
    if (acceptsDeltas && d !== undefined && d.version === this.version && d.baseVersion === lastSentVersion) return d;
    return this.full();
  }
}
