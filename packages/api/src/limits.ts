// Every size and count limit of Weft in one place. They are chosen together, so that whatever weftd
// accepts it can also deliver: the whole stored config fits in one SessionResponse the SDK accepts,
// and a Hello, a RegisterEndpoints or a Subscribe within their limits fits in one SessionRequest.
// limits.test.ts checks those sums. docs/operations.md ("Limits") lists them for operators.

const KiB = 1024;
const MiB = 1024 * KiB;

// ── Admin API and config store ─────────────────────────────────────────────────────────────────

/** The largest request body weftd's admin API reads (one apply or delete). */
export const MAX_ADMIN_BODY_BYTES = 4 * MiB;
/** The most documents one apply or delete may carry. */
export const MAX_RESOURCES_PER_BATCH = 1000;
/**
 * The most bytes the stored config may take in all: the JSON of every resource plus
 * CONFIG_RESOURCE_OVERHEAD_BYTES each. A full ConfigUpdate is never larger, and a delta (written
 * resources plus removed keys) never larger than twice this, so both fit in MAX_SERVER_MESSAGE_BYTES.
 */
export const MAX_STORED_CONFIG_BYTES = 16 * MiB;
/** Counted per resource on top of its JSON: a Resource message's framing, version and timestamps. */
export const CONFIG_RESOURCE_OVERHEAD_BYTES = 64;

// ── Session stream (weft.v1.ControlPlane/Session) ─────────────────────────────────────────────

/** Largest SessionRequest (SDK → weftd): the SDK's send limit and weftd's receive limit. */
export const MAX_CLIENT_MESSAGE_BYTES = 4 * MiB;
/** Largest SessionResponse (weftd → SDK): weftd's send limit and the SDK's receive limit. */
export const MAX_SERVER_MESSAGE_BYTES = 64 * MiB;
/**
 * EndpointsUpdates larger than this are sent in parts: whole hosts to every client, and one host's
 * instances across parts to clients that said Hello.accepts_split_endpoints.
 */
export const ENDPOINTS_PART_BYTES = 1 * MiB;
/** The most endpoints one session may register (RegisterEndpoints replaces the set). */
export const MAX_ENDPOINTS_PER_SESSION = 1024;
/** The most hosts one session may subscribe to, in all its Subscribe messages together. */
export const MAX_SUBSCRIPTIONS_PER_SESSION = 10_000;
/** The SDK sends subscriptions in messages of at most this many hosts. */
export const SUBSCRIBE_BATCH_HOSTS = 1000;
/** A subscribed host (after resolving short names to the FQDN) is a DNS name of at most this length. */
export const MAX_HOST_LENGTH = 253;
/** NACK reasons longer than this are cut (by the SDK before sending, by weftd when storing). */
export const MAX_NACK_ERROR_LENGTH = 4096;

// ── Hello: who a workload is (sizes as Kubernetes bounds the same names) ──────────────────────

export const MAX_INSTANCE_ID_LENGTH = 320;
export const MAX_WORKLOAD_NAME_LENGTH = 253;
export const MAX_SERVICE_ACCOUNT_LENGTH = 253;
export const MAX_SDK_VERSION_LENGTH = 64;
export const MAX_LABELS = 64;
/** A label key is `[prefix/]name`: prefix a DNS subdomain of at most 253, name at most 63. */
export const MAX_LABEL_KEY_PREFIX_LENGTH = 253;
export const MAX_LABEL_NAME_LENGTH = 63;
export const MAX_LABEL_VALUE_LENGTH = 63;
/** An endpoint address (an IP, or a DNS name) is at most this long. */
export const MAX_ENDPOINT_ADDRESS_LENGTH = 253;

// ── weftd's connection defaults (each has a flag; see docs/operations.md) ─────────────────────

/** A session must say Hello, and a connection carry a session that did, within this (--handshake-timeout). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Sessions weftd holds at once (--max-sessions). */
export const DEFAULT_MAX_SESSIONS = 10_000;
/**
 * TCP connections from one peer address (--max-connections-per-peer). Generous: every workload on a
 * host shares that host's address (127.0.0.1 on a laptop).
 */
export const DEFAULT_MAX_CONNECTIONS_PER_PEER = 1000;
/**
 * Session streams on one connection (--max-streams-per-connection). grpc-js shares one connection
 * among all clients of a process that use the same address, so a process with many meshes (tests,
 * benchmarks) uses one stream each on one connection.
 */
export const DEFAULT_MAX_STREAMS_PER_CONNECTION = 1000;

/** Length of RegisterEndpoints.request_id; and the longest weftd waits before it answers one (ms). */
export const MAX_REQUEST_ID_LENGTH = 128;
export const MAX_CONFIRM_TIMEOUT_MS = 10_000;

// ── Certificate requests (docs/security.md) ───────────────────────────────────────────────────

/** A CSR in a CertificateRequest (PEM); a P-256 CSR is under 600 bytes, RSA-4096 about 1.7 KiB. */
export const MAX_REQUEST_CSR_PEM_BYTES = 8 * 1024;
/** A join token; the format is fixed (weft1.<id>.<secret>.<hash>), 127 characters. */
export const MAX_JOIN_TOKEN_LENGTH = 256;
/** The current chain a renewal presents (leaf and intermediates, PEM). */
export const MAX_CHAIN_PEM_BYTES = 32 * 1024;
/** A renewal's signature (an RSA-4096 signature is 512 bytes). */
export const MAX_PROOF_BYTES = 1024;
/** Join tokens weftd keeps (revoked and expired ones included, until they are pruned). */
export const MAX_JOIN_TOKENS = 10_000;

/**
 * The SDK's longest wait between two attempts to reach weftd (its reconnect backoff's cap). weftd holds
 * endpoint pushes to resumed sessions after a restart for at least this plus RESUME_HOLD_MARGIN_MS, so
 * that every workload connected before the restart has come back before anyone's view is refreshed
 * (a shorter hold pushed lists that still lacked the late ones: 503 UH until they came back).
 */
export const SESSION_RECONNECT_CAP_MS = 5000;
export const RESUME_HOLD_MARGIN_MS = 1500;
