// The config resources as weftd sent them, by key, and the version they make up. It mirrors weftd,
// not what compiled: a resource the SDK NACKed is held too, because weftd's next delta is based on
// what it sent. A full update replaces the set; a delta applies to it only when its base is the
// version held.
import type { ConfigUpdateMsg, ResourceMsg } from '@weft/api';
import { ConfigRejectedError } from './compile.js';

/** One key whose resource changed: the new resource, or undefined when it left the set. */
export interface ResourceChange {
  key: string;
  resource: ResourceMsg | undefined;
}

/** `Kind/namespace/name`, as ConfigUpdate.removed names resources. */
export function resourceMsgKey(r: Pick<ResourceMsg, 'kind' | 'namespace' | 'name'>): string {
  return `${r.kind}/${r.namespace}/${r.name}`;
}

/** Same stored version of a resource: nothing to decode or compile again. */
function sameResource(a: ResourceMsg, b: ResourceMsg): boolean {
  return a.version === b.version && a.createdMs === b.createdMs && a.specJson === b.specJson && a.apiVersion === b.apiVersion;
}

export class ReceivedConfig {
  private readonly resources = new Map<string, ResourceMsg>();
  private heldVersion = '';

  /** The version of the last update applied ('' before the first). */
  get version(): string {
    return this.heldVersion;
  }

  get size(): number {
    return this.resources.size;
  }

  get(key: string): ResourceMsg | undefined {
    return this.resources.get(key);
  }

  /**
   * Takes in an update and returns the keys whose resource actually changed. A delta on a base other
   * than the version held throws ConfigRejectedError (to NACK) and changes nothing.
   */
  apply(msg: ConfigUpdateMsg): ResourceChange[] {
    if (!msg.delta) return this.replace(msg);
    if (msg.baseVersion !== this.heldVersion) {
      throw new ConfigRejectedError(`delta based on ${JSON.stringify(msg.baseVersion)} but this client holds ${JSON.stringify(this.heldVersion)}`);
    }
    const changes: ResourceChange[] = [];
    for (const key of msg.removed) {
      // A key this client never got is fine: it can be written and deleted between two revisions.
      if (this.resources.delete(key)) changes.push({ key, resource: undefined });
    }
    for (const r of msg.resources) this.put(r, changes);
    this.heldVersion = msg.version;
    return changes;
  }

  private replace(msg: ConfigUpdateMsg): ResourceChange[] {
    const changes: ResourceChange[] = [];
    const incoming = new Set<string>();
    for (const r of msg.resources) {
      incoming.add(resourceMsgKey(r));
      this.put(r, changes);
    }
    for (const key of this.resources.keys()) {
      if (incoming.has(key)) continue;
      this.resources.delete(key);
      changes.push({ key, resource: undefined });
    }
    this.heldVersion = msg.version;
    return changes;
  }

  private put(r: ResourceMsg, changes: ResourceChange[]): void {
    const key = resourceMsgKey(r);
    const held = this.resources.get(key);
    if (held !== undefined && sameResource(held, r)) return;
    this.resources.set(key, r);
    changes.push({ key, resource: r });
  }
}
