// The shapes a stored resource is served in: Istio-shaped for the admin API and weftctl, and the
// wire message for sessions. Both are derived once per stored version and cached.
import type { ResourceMsg } from '@weft/api';
import type { StoredResource } from '../store/stored-resource.js';

const wireCache = new WeakMap<StoredResource, ResourceMsg>();

/** Istio shape with metadata.resourceVersion and metadata.creationTimestamp set by the server. */
export function toIstioShape(r: StoredResource): Record<string, unknown> {
  const meta = (r.object.metadata ?? {}) as Record<string, unknown>;
  return {
    ...r.object,
    metadata: { ...meta, resourceVersion: String(r.resourceVersion), creationTimestamp: new Date(r.createdMs).toISOString() },
  };
}

export function toResourceMsg(r: StoredResource): ResourceMsg {
  let msg = wireCache.get(r);
  if (!msg) {
    msg = {
      kind: r.kind,
      apiVersion: r.apiVersion,
      namespace: r.namespace,
      name: r.name,
      version: String(r.resourceVersion),
      specJson: JSON.stringify(r.object.spec ?? {}),
      createdMs: r.createdMs,
    };
    wireCache.set(r, msg);
  }
  return msg;
}
