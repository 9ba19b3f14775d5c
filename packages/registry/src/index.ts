export { startDaemon, type Daemon, type DaemonOptions } from './daemon.js';
export { FileStore, type FileStoreOptions } from './store/file-store.js';
export type { StoredResource } from './store/stored-resource.js';
export { ConfigService, type ApplyResult, type ApplyResultItem, type DeleteResult } from './config/config-service.js';
export { EndpointRegistry } from './registry/endpoint-registry.js';
export { SessionServer } from './session/session-server.js';
export type { SessionInfo } from './session/session.js';
