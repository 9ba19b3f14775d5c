// Loads the control-plane protocol once and gives both ends (weftd and the SDK) the same service
// definition and message types.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const PROTO_PATH = fileURLToPath(new URL('../proto/weft/v1/control_plane.proto', import.meta.url));

const packageDefinition = protoLoader.loadSync(PROTO_PATH, {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});

type ServiceCtor = grpc.ServiceClientConstructor;
const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as {
  weft: { v1: { ControlPlane: ServiceCtor } };
};

/** grpc-js client constructor for weft.v1.ControlPlane. */
export const ControlPlaneClient: ServiceCtor = loaded.weft.v1.ControlPlane;
/** Service definition to add to a grpc-js Server. */
export const controlPlaneService: grpc.ServiceDefinition = loaded.weft.v1.ControlPlane.service;

export interface EndpointMsg {
  address: string;
  port: number;
  protocol: string;
  servicePort: number;
}

export interface WorkloadMsg {
  instanceId: string;
  service: string;
  namespace: string;
  labels: Record<string, string>;
  serviceAccount: string;
  workloadName: string;
}

export interface HelloMsg {
  workload: WorkloadMsg;
  sdkVersion: string;
  resume: boolean;
  /** The client applies delta ConfigUpdates; without it weftd sends full snapshots only (decoded: false). */
  acceptsConfigDeltas?: boolean;
  /** The client reassembles EndpointsUpdates sent in parts (EndpointsUpdate.more); decoded: false without it. */
  acceptsSplitEndpoints?: boolean;
}
/** `requestId` asks weftd for a Registered answer once callers have the change (see the proto). */
export interface RegisterEndpointsMsg { endpoints: EndpointMsg[]; requestId?: string; confirmTimeoutMs?: number }
export interface SubscribeMsg { hosts: string[] }
export type UpdateType = 'config' | 'endpoints';
export interface AckMsg { type: UpdateType | string; version: string; nonce: string; error: string }

export type SessionRequestMsg =
  | { kind: 'hello'; hello: HelloMsg }
  | { kind: 'register'; register: RegisterEndpointsMsg }
  | { kind: 'subscribe'; subscribe: SubscribeMsg }
  | { kind: 'ack'; ack: AckMsg };

export interface WelcomeMsg { sessionId: string; serverId: string }

export interface ResourceMsg {
  kind: string;
  apiVersion: string;
  namespace: string;
  name: string;
  version: string;
  specJson: string;
  createdMs: number;
}

/**
 * Full (delta=false): `resources` is the whole snapshot at `version`. Delta: the change from
 * `baseVersion` to `version`, resources written since and `removed` keys (`Kind/namespace/name`).
 */
export interface ConfigUpdateMsg {
  version: string;
  nonce: string;
  resources: ResourceMsg[];
  delta: boolean;
  baseVersion: string;
  removed: string[];
}

export interface InstanceMsg {
  instanceId: string;
  workloadName: string;
  labels: Record<string, string>;
  serviceAccount: string;
  endpoint: EndpointMsg;
}

export interface HostEndpointsMsg { host: string; instances: InstanceMsg[] }
/** `more`: further parts of this update follow (sent only to clients that said acceptsSplitEndpoints). */
export interface EndpointsUpdateMsg { version: string; nonce: string; hosts: HostEndpointsMsg[]; more?: boolean }

export interface RegisteredMsg { requestId: string; endpointsVersion: string; subscribers: number; acked: number }

export type SessionResponseMsg =
  | { kind: 'welcome'; welcome: WelcomeMsg }
  | { kind: 'config'; config: ConfigUpdateMsg }
  | { kind: 'endpoints'; endpoints: EndpointsUpdateMsg }
  | { kind: 'registered'; registered: RegisteredMsg };

/** Default gRPC port of weftd's session server and its admin HTTP port. */
export const DEFAULT_GRPC_PORT = 15010;
export const DEFAULT_ADMIN_PORT = 15000;
