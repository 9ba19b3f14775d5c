// Stored resources for the store's tests: small DestinationRules written as one batch.
import type { FileStore } from './file-store.js';
import type { StoredResource, StoreView } from './stored-resource.js';

export function testResource(name: string, view: StoreView, spec: unknown = { host: name }): StoredResource {
  return {
    kind: 'DestinationRule',
    namespace: 'default',
    name,
    apiVersion: 'networking.istio.io/v1',
    resourceVersion: view.nextRevision,
    createdMs: 1000,
    object: { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name, namespace: 'default' }, spec },
  };
}

/** Commits one batch that puts a resource per name (spec from `spec(name)`, default `{host: name}`). */
export function putResources(store: FileStore, names: readonly string[], spec: (name: string) => unknown = (n) => ({ host: n })) {
  return store.commit((view) => ({ mutation: { puts: names.map((n) => testResource(n, view, spec(n))), deletes: [] }, value: undefined }));
}
