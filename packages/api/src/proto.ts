// Loads the control-plane protocol once and gives both ends (weftd and the SDK) the same service
// definition and message types.
import { createHash, X509Certificate } from 'node:crypto';
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
  /** Accepts mTLS (the workload holds a certificate); false or absent: plaintext only. */
  mtls?: boolean;
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
export type UpdateType = 'config' | 'endpoints' | 'bundle';
export interface AckMsg { type: UpdateType | string; version: string; nonce: string; error: string }

export type SessionRequestMsg =
  | { kind: 'hello'; hello: HelloMsg }
  | { kind: 'register'; register: RegisterEndpointsMsg }
  | { kind: 'subscribe'; subscribe: SubscribeMsg }
  | { kind: 'ack'; ack: AckMsg }
  | { kind: 'certificateRequest'; certificateRequest: CertificateRequestMsg };

/** First certificate: `token`; renewal: `currentChainPem` and `proof` (see renewalProofPayload). */
export interface CertificateRequestMsg { requestId: string; csrPem: string; token: string; currentChainPem: string; proof: Buffer | Uint8Array }

/** Bundle and challenge are empty from a weftd without a CA (decoded defaults). */
export interface WelcomeMsg { sessionId: string; serverId: string; trustBundlePem?: string[]; bundleVersion?: number; challenge?: string }

export interface CertificateMsg { requestId: string; chainPem: string; trustBundlePem: string[]; bundleVersion: number; expiresMs: number; spiffeId: string }

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
  | { kind: 'registered'; registered: RegisteredMsg }
  | { kind: 'certificate'; certificate: CertificateMsg }
  | { kind: 'bundle'; bundle: TrustBundleUpdateMsg };

/** See TrustBundleUpdate in the proto: roots newest first. */
export interface TrustBundleUpdateMsg { trustBundlePem: string[]; bundleVersion: number; renew: boolean; nonce: string }

/**
 * What a renewal's proof signs: a context string, the session's challenge and the SHA-256 of the CSR,
 * so a proof is good for one session and one CSR only.
 */
export function renewalProofPayload(challenge: string, csrPem: string): Buffer {
  const csrHash = createHash('sha256').update(csrPem).digest('hex');
  return Buffer.from(`weft certificate renewal v1\n${challenge}\n${csrHash}\n`);
}

// ── Join tokens: `weft1.<id>.<secret>.<ca hash>` ─────────────────────────────────────────────
// One string bootstraps a workload: the id and secret prove its identity to weftd, and the CA hash
// (SHA-256 of a root's SubjectPublicKeyInfo, as kubeadm's discovery-token-ca-cert-hash) lets the
// workload check weftd's trust bundle before it sends the secret.

export interface JoinTokenParts { id: string; secret: string; caHash: string }

const JOIN_TOKEN = /^weft1\.([0-9a-f]{16})\.([A-Za-z0-9_-]{43})\.([0-9a-f]{64})$/;

export function formatJoinToken(parts: JoinTokenParts): string {
  const token = `weft1.${parts.id}.${parts.secret}.${parts.caHash}`;
  if (!JOIN_TOKEN.test(token)) throw new Error('join token parts are malformed');
  return token;
}

/** Parses a join token; the error says what is wrong without repeating the secret. */
export function parseJoinToken(text: string): JoinTokenParts {
  const m = JOIN_TOKEN.exec(text.trim());
  if (!m) {
    throw new Error(
      `not a Weft join token (expected weft1.<16 hex id>.<43 character secret>.<64 hex CA hash>, got ${text.trim().length} characters` +
        `${text.startsWith('weft1.') ? '' : ' not starting with weft1.'}); create one with 'weftctl token create'`,
    );
  }
  return { id: m[1]!, secret: m[2]!, caHash: m[3]! };
}

/** The CA hash of a root certificate (PEM): SHA-256 of its SubjectPublicKeyInfo, lower-case hex. */
export function caHashOfCertificate(pem: string): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}

/** Default gRPC port of weftd's session server and its admin HTTP port. */
export const DEFAULT_GRPC_PORT = 15010;
export const DEFAULT_ADMIN_PORT = 15000;

/**
 * weftd's own identity: the URI SAN of the certificate it serves its session port and admin API with.
 * Workloads and weftctl accept weftd by this name and the mesh's roots, not by a host name (weftd may be
 * reached by any address). No join token may be made for it (weftd refuses), so no workload can hold it.
 */
export const WEFTD_NAMESPACE = 'istio-system';
export const WEFTD_SERVICE_ACCOUNT = 'weftd';
export function weftdSpiffeId(trustDomain: string): string {
  return `spiffe://${trustDomain}/ns/${WEFTD_NAMESPACE}/sa/${WEFTD_SERVICE_ACCOUNT}`;
}
/** True when `uri` is weftd's identity in some trust domain. */
export function isWeftdSpiffeId(uri: string): boolean {
  return /^spiffe:\/\/[^/]+\/ns\/istio-system\/sa\/weftd$/.test(uri);
}
