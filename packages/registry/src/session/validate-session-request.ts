// Checks of every client message of a Session stream. A problem is returned as a message naming the
// field (and, for a size or count over a limit, the limit); the session server ends the stream with
// INVALID_ARGUMENT or RESOURCE_EXHAUSTED and stores nothing from it. The limits are those of
// packages/api/src/limits.ts, so that whatever is accepted here can also be delivered to callers.
import {
  isDnsLabel,
  isDnsSubdomain,
  MAX_ENDPOINT_ADDRESS_LENGTH,
  MAX_ENDPOINTS_PER_SESSION,
  MAX_HOST_LENGTH,
  MAX_INSTANCE_ID_LENGTH,
  MAX_LABEL_KEY_PREFIX_LENGTH,
  MAX_LABEL_NAME_LENGTH,
  MAX_LABEL_VALUE_LENGTH,
  MAX_LABELS,
  MAX_REQUEST_ID_LENGTH,
  MAX_SDK_VERSION_LENGTH,
  MAX_SERVICE_ACCOUNT_LENGTH,
  MAX_SUBSCRIPTIONS_PER_SESSION,
  MAX_WORKLOAD_NAME_LENGTH,
  toFqdn,
  MAX_CHAIN_PEM_BYTES,
  MAX_JOIN_TOKEN_LENGTH,
  MAX_PROOF_BYTES,
  MAX_REQUEST_CSR_PEM_BYTES,
  type CertificateRequestMsg,
  type SessionRequestMsg,
  type WorkloadMsg,
} from '@weft/api';

export const PROTOCOLS = ['http', 'http2', 'grpc'] as const;

/** What is wrong with a client message: a malformed field ('invalid') or a count or size over a limit ('limit'). */
export interface SessionRequestProblem {
  kind: 'invalid' | 'limit';
  message: string;
}

/**
 * Keys that name members of every JavaScript object. Labels end up as object keys in weftd, the SDK
 * and tools, where `labels.constructor` would find Object's own member, so they are refused outright.
 */
const RESERVED_LABEL_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Kubernetes' label name (and value) syntax: alphanumerics at both ends, '-', '_' and '.' inside. */
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/** Identifiers a workload chooses (instance id, workload name, ...): visible ASCII, no spaces or controls. */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
/** A host as a caller may write it: DNS labels of any case (resolved to lower case). */
const HOST_LABEL = /^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$/;

/**
 * Returns what is wrong with the message, or undefined when it is acceptable. `namespace` is the
 * session's namespace (from its Hello), in which short subscribed host names are resolved.
 */
export function sessionRequestProblem(msg: SessionRequestMsg, namespace = 'default'): SessionRequestProblem | undefined {
  switch (msg.kind) {
    case 'hello':
      return msg.hello.workload ? workloadProblem(msg.hello.workload) ?? sdkVersionProblem(msg.hello.sdkVersion) : invalid('hello.workload is required');
    case 'register': {
      const endpoints = msg.register.endpoints;
      if (endpoints.length > MAX_ENDPOINTS_PER_SESSION) {
        return limit(`register.endpoints has ${endpoints.length} endpoints; a session may register at most ${MAX_ENDPOINTS_PER_SESSION} (MAX_ENDPOINTS_PER_SESSION)`);
      }
      for (const [i, e] of endpoints.entries()) {
        const at = `register.endpoints[${i}]`;
        if (!e.address) return invalid(`${at}.address must not be empty`);
        const address = identifierProblem(`${at}.address`, e.address, MAX_ENDPOINT_ADDRESS_LENGTH, 'MAX_ENDPOINT_ADDRESS_LENGTH');
        if (address) return address;
        if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) return invalid(`${at}.port ${e.port} is not in 1..65535`);
        if (!(PROTOCOLS as readonly string[]).includes(e.protocol)) return invalid(`${at}.protocol ${show(e.protocol)} is not one of ${PROTOCOLS.join(', ')}`);
        if (!Number.isInteger(e.servicePort) || e.servicePort < 0 || e.servicePort > 65535) return invalid(`${at}.servicePort ${e.servicePort} is not in 0..65535`);
      }
      const requestId = msg.register.requestId ?? '';
      if (requestId) {
        const problem = identifierProblem('register.requestId', requestId, MAX_REQUEST_ID_LENGTH, 'MAX_REQUEST_ID_LENGTH');
        if (problem) return problem;
      }
      return undefined;
    }
    case 'subscribe': {
      const hosts = msg.subscribe.hosts;
      if (hosts.length === 0) return invalid('subscribe.hosts must not be empty');
      if (hosts.length > MAX_SUBSCRIPTIONS_PER_SESSION) {
        return limit(`subscribe.hosts has ${hosts.length} hosts; a session may subscribe to at most ${MAX_SUBSCRIPTIONS_PER_SESSION} (MAX_SUBSCRIPTIONS_PER_SESSION)`);
      }
      for (const [i, h] of hosts.entries()) {
        const problem = hostProblem(h, namespace);
        if (problem) return invalid(`subscribe.hosts[${i}] ${show(h)} ${problem}`);
      }
      return undefined;
    }
    case 'ack': {
      if (msg.ack.type !== 'config' && msg.ack.type !== 'endpoints' && msg.ack.type !== 'bundle') return invalid(`ack.type ${show(msg.ack.type)} is not "config", "endpoints" or "bundle"`);
      if (!msg.ack.nonce) return invalid('ack.nonce must not be empty');
      return undefined;
    }
    case 'certificateRequest':
      return certificateRequestProblem(msg.certificateRequest);
    default:
      return invalid('the message sets none of hello, register, subscribe, ack, certificate_request');
  }
}

function certificateRequestProblem(r: CertificateRequestMsg): SessionRequestProblem | undefined {
  const bytes = (text: string) => Buffer.byteLength(text);
  if (bytes(r.csrPem) > MAX_REQUEST_CSR_PEM_BYTES) return limit(`certificate_request.csr_pem is ${bytes(r.csrPem)} bytes; at most ${MAX_REQUEST_CSR_PEM_BYTES} (MAX_REQUEST_CSR_PEM_BYTES)`);
  if (r.token.length > MAX_JOIN_TOKEN_LENGTH) return limit(`certificate_request.token is ${r.token.length} characters; at most ${MAX_JOIN_TOKEN_LENGTH} (MAX_JOIN_TOKEN_LENGTH)`);
  if (bytes(r.currentChainPem) > MAX_CHAIN_PEM_BYTES) return limit(`certificate_request.current_chain_pem is ${bytes(r.currentChainPem)} bytes; at most ${MAX_CHAIN_PEM_BYTES} (MAX_CHAIN_PEM_BYTES)`);
  if (r.proof.length > MAX_PROOF_BYTES) return limit(`certificate_request.proof is ${r.proof.length} bytes; at most ${MAX_PROOF_BYTES} (MAX_PROOF_BYTES)`);
  if (r.requestId.length > MAX_REQUEST_ID_LENGTH) return limit(`certificate_request.request_id is ${r.requestId.length} characters; at most ${MAX_REQUEST_ID_LENGTH} (MAX_REQUEST_ID_LENGTH)`);
  if (!r.csrPem) return invalid('certificate_request.csr_pem must not be empty');
  if (r.token && (r.currentChainPem || r.proof.length > 0)) return invalid('certificate_request sets both token and current_chain_pem/proof; a request is proved by one of them');
  return undefined;
}

function workloadProblem(w: WorkloadMsg): SessionRequestProblem | undefined {
  if (!w.instanceId) return invalid('hello.workload.instanceId must not be empty');
  const id = identifierProblem('hello.workload.instanceId', w.instanceId, MAX_INSTANCE_ID_LENGTH, 'MAX_INSTANCE_ID_LENGTH');
  if (id) return id;
  if (!isDnsLabel(w.service)) return invalid(`hello.workload.service ${show(w.service)} is not a DNS label (lower-case letters, digits and '-', at most 63)`);
  if (!isDnsLabel(w.namespace)) return invalid(`hello.workload.namespace ${show(w.namespace)} is not a DNS label (lower-case letters, digits and '-', at most 63)`);
  if (w.workloadName) {
    const p = identifierProblem('hello.workload.workloadName', w.workloadName, MAX_WORKLOAD_NAME_LENGTH, 'MAX_WORKLOAD_NAME_LENGTH');
    if (p) return p;
  }
  if (w.serviceAccount) {
    const p = identifierProblem('hello.workload.serviceAccount', w.serviceAccount, MAX_SERVICE_ACCOUNT_LENGTH, 'MAX_SERVICE_ACCOUNT_LENGTH');
    if (p) return p;
  }
  return labelsProblem(w.labels);
}

function sdkVersionProblem(v: string | undefined): SessionRequestProblem | undefined {
  return v ? identifierProblem('hello.sdkVersion', v, MAX_SDK_VERSION_LENGTH, 'MAX_SDK_VERSION_LENGTH') : undefined;
}

/** Labels as Kubernetes bounds them, read with own-property semantics (a JSON `__proto__` key is one). */
function labelsProblem(labels: Record<string, string> | null | undefined): SessionRequestProblem | undefined {
  if (labels === null || labels === undefined) return undefined;
  if (typeof labels !== 'object') return invalid('hello.workload.labels must be a map of strings');
  const keys = Object.keys(labels);
  if (keys.length > MAX_LABELS) return invalid(`hello.workload.labels has ${keys.length} labels; at most ${MAX_LABELS} are allowed (MAX_LABELS)`);
  for (const key of keys) {
    const at = `hello.workload.labels[${show(key)}]`;
    if (RESERVED_LABEL_KEYS.has(key)) return invalid(`${at}: ${show(key)} is reserved (it names a member of every JavaScript object); choose another label key`);
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) return invalid(`${at}: the key ${keyProblem}`);
    const value: unknown = labels[key];
    if (typeof value !== 'string') return invalid(`${at} must be a string`);
    if (value.length > MAX_LABEL_VALUE_LENGTH) return invalid(`${at}: the value has ${value.length} characters; at most ${MAX_LABEL_VALUE_LENGTH} are allowed (MAX_LABEL_VALUE_LENGTH)`);
    if (value !== '' && !LABEL_NAME.test(value)) return invalid(`${at}: the value ${show(value)} is not a label value (letters, digits, '-', '_' and '.', starting and ending with a letter or digit)`);
  }
  return undefined;
}

/** Kubernetes' qualified name: `[prefix/]name`, prefix a DNS subdomain, name a label name. */
function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > MAX_LABEL_KEY_PREFIX_LENGTH || !isDnsSubdomain(prefix))) {
    return `prefix ${show(prefix)} is not a DNS subdomain of at most ${MAX_LABEL_KEY_PREFIX_LENGTH} characters`;
  }
  if (name.length === 0 || name.length > MAX_LABEL_NAME_LENGTH || !LABEL_NAME.test(name)) {
    return `name ${show(name)} is not a label name (1 to ${MAX_LABEL_NAME_LENGTH} letters, digits, '-', '_' and '.', starting and ending with a letter or digit)`;
  }
  return undefined;
}

/** A host as written by the caller, and its FQDN in the session's namespace: DNS names of at most 253. */
function hostProblem(host: string, namespace: string): string | undefined {
  if (host.length === 0) return 'is not a host name (it is empty)';
  if (host.length > MAX_HOST_LENGTH) return `is not a host name: ${host.length} characters, at most ${MAX_HOST_LENGTH} are allowed (MAX_HOST_LENGTH)`;
  if (!host.split('.').every((l) => l.length <= 63 && HOST_LABEL.test(l))) return "is not a DNS name (labels of letters, digits and '-', at most 63 each, separated by '.')";
  const fqdn = toFqdn(host, namespace);
  if (fqdn.length > MAX_HOST_LENGTH) return `resolves to ${fqdn.length} characters in namespace ${namespace}; at most ${MAX_HOST_LENGTH} are allowed (MAX_HOST_LENGTH)`;
  return undefined;
}

function identifierProblem(field: string, value: string, max: number, limitName: string): SessionRequestProblem | undefined {
  if (value.length > max) return invalid(`${field} has ${value.length} characters; at most ${max} are allowed (${limitName})`);
  if (!VISIBLE_ASCII.test(value)) return invalid(`${field} ${show(value)} may hold only visible ASCII characters (no spaces or control characters)`);
  return undefined;
}

/** A value quoted for a message: JSON escapes control characters, and long values are cut. */
function show(value: unknown): string {
  const s = String(value);
  return s.length > 64 ? `${JSON.stringify(s.slice(0, 64))}… (${s.length} characters)` : JSON.stringify(s);
}

function invalid(message: string): SessionRequestProblem {
  return { kind: 'invalid', message };
}

function limit(message: string): SessionRequestProblem {
  return { kind: 'limit', message };
}
