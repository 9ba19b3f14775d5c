// DestinationRule (networking.istio.io): how traffic to a host is balanced, its subsets, and the TLS a
// caller uses towards it (trafficPolicy.tls: Istio's ClientTLSSettings).
import { quote, type Issue } from '../errors.js';
import { dnsLabel, host, labelMap, type Schema, type StringRule } from '../schema.js';
import type { KindDefinition, ResourceOf } from './kind.js';
import {
  checkTrafficPolicyParts,
  connectionPoolSchema,
  loadBalancerSchema,
  outlierDetectionSchema,
  portLevelSettingsSchema,
  type ConnectionPoolSettings,
  type LoadBalancerSettings,
  type OutlierDetection,
  type PortTrafficPolicy,
} from './destination-rule-traffic.js';
import { checkRetryBudget, RETRY_BUDGET_SCHEMA, type RetryBudgetPolicy } from './route-policies.js';

export type { SimpleLB, LoadBalancerSettings } from './destination-rule-traffic.js';

/**
 * ISTIO_MUTUAL: the mesh's mTLS (what an absent setting means: auto-mTLS, used when the endpoint accepts
 * it); DISABLE: plaintext; SIMPLE: TLS that the caller originates, checking the server with the files
 * given (or Node's trust store); MUTUAL: the same, presenting the client certificate of the files.
 */
export type ClientTlsMode = 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';

/**
 * Istio's ClientTLSSettings. The file fields are paths on the machine of each calling workload (in Istio,
 * paths in the sidecar), read by the workload when it connects.
 */
export interface ClientTlsSettings {
  mode?: ClientTlsMode;
  /** PEM client certificate (chain), presented with MUTUAL. */
  clientCertificate?: string;
  /** PEM private key of clientCertificate (unencrypted). */
  privateKey?: string;
  /** PEM CA certificates the server's chain must lead to; absent: Node's trust store. */
  caCertificates?: string;
  /** PEM certificate revocation list(s) checked against the server's chain. */
  caCrl?: string;
  /** The server certificate must carry one of these names; absent: the name the caller connects to (sni, else the host). */
  subjectAltNames?: string[];
  /** SNI sent in the ClientHello; absent: the host the caller named. */
  sni?: string;
  /** Skips every check of the server certificate (chain, names, revocation). */
  insecureSkipVerify?: boolean;
}

export interface TrafficPolicy {
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  /** Per destination port: what an entry sets replaces the policy's own for that port (see destination-rule-traffic.ts). */
  portLevelSettings?: PortTrafficPolicy<ClientTlsSettings>[];
  tls?: ClientTlsSettings;
  retryBudget?: RetryBudgetPolicy;
}

export interface Subset {
  name: string;
  labels?: Record<string, string>;
  trafficPolicy?: TrafficPolicy;
}

export interface DestinationRuleSpec {
  host: string;
  trafficPolicy?: TrafficPolicy;
  subsets?: Subset[];
}

export type DestinationRule = ResourceOf<'DestinationRule', DestinationRuleSpec>;

/** Files are read by every calling workload on its own machine: a relative path would depend on its working directory. */
const absolutePath: StringRule = (s) =>
  /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(s) ? undefined : `${quote(s)} is not an absolute path; give the full path of the PEM file on the calling workload's machine (e.g. /etc/certs/ca.pem)`;

/** An SNI value is a DNS name (RFC 6066: never an IP address, no wildcard). */
const sniName: StringRule = (s) => {
  if (s.length > 253 || !/^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/.test(s)) {
    return `${quote(s)} is not a DNS name (letters, digits, '-' and '.'; SNI carries a host name, never a wildcard)`;
  }
  if (/^[0-9.]+$/.test(s)) return `${quote(s)} is an IP address; SNI carries a host name only (TLS sends no SNI for an address)`;
  return undefined;
};

const pemFile: Schema = { t: 'string', nonEmpty: true, rule: absolutePath };

const tls: Schema = {
  t: 'object',
  fields: {
    mode: { t: 'enum', values: ['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'] },
    clientCertificate: pemFile,
    privateKey: pemFile,
    caCertificates: pemFile,
    caCrl: pemFile,
    subjectAltNames: { t: 'array', of: { t: 'string', nonEmpty: true } },
    sni: { t: 'string', nonEmpty: true, rule: sniName },
    insecureSkipVerify: { t: 'bool' },
  },
  unsupported: ['credentialName'],
  unsupportedWhy: {
    credentialName: 'it names a Kubernetes Secret, which Weft cannot read; give the files instead: clientCertificate, privateKey and caCertificates (paths on the calling workload\'s machine)',
  },
};

const trafficPolicy: Schema = {
  t: 'object',
  fields: { loadBalancer: loadBalancerSchema, connectionPool: connectionPoolSchema, outlierDetection: outlierDetectionSchema, portLevelSettings: portLevelSettingsSchema(tls), tls, retryBudget: RETRY_BUDGET_SCHEMA },
  unsupported: ['tunnel', 'proxyProtocol'],
};

/** Fields that only mean something for TLS Weft originates with the user's settings (SIMPLE, MUTUAL). */
const ORIGINATION_FIELDS = ['clientCertificate', 'privateKey', 'caCertificates', 'caCrl', 'subjectAltNames', 'sni', 'insecureSkipVerify'] as const;
const CLIENT_KEY_PAIR = ['clientCertificate', 'privateKey'] as const;
/** What insecureSkipVerify: true makes pointless (Istio refuses caCertificates and subjectAltNames with it). */
const VERIFICATION_FIELDS = ['caCertificates', 'caCrl', 'subjectAltNames'] as const;

function isSet(v: unknown): boolean {
  return v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0);
}

/** Istio's ValidateTLS, and the fields one mode would silently ignore: an error names each, never a shrug. */
function checkTls(settings: ClientTlsSettings | undefined, path: string, issues: Issue[]): void {
  if (settings === undefined) return;
  const mode = settings.mode ?? 'ISTIO_MUTUAL';
  if (mode === 'ISTIO_MUTUAL' || mode === 'DISABLE') {
    const what = mode === 'DISABLE'
      ? 'mode DISABLE sends plaintext'
      : `mode ${settings.mode === undefined ? 'is not set, which means ISTIO_MUTUAL' : 'ISTIO_MUTUAL'}: the mesh's own certificates are used and the server's SPIFFE ID is checked`;
    for (const f of ORIGINATION_FIELDS) {
      if (isSet(settings[f])) issues.push({ path: `${path}.${f}`, message: `is only used with mode SIMPLE or MUTUAL (TLS with your own files, for destinations outside the mesh), and ${what}; remove it, or set mode: SIMPLE or MUTUAL` });
    }
    return;
  }
  for (const f of CLIENT_KEY_PAIR) {
    if (mode === 'MUTUAL' && settings[f] === undefined) {
      const what = f === 'clientCertificate' ? 'the client certificate (PEM)' : 'the private key of the client certificate (PEM, unencrypted)';
      issues.push({ path: `${path}.${f}`, message: `is required with mode MUTUAL: the path of ${what} presented to the server` });
    }
    if (mode === 'SIMPLE' && settings[f] !== undefined) {
      issues.push({ path: `${path}.${f}`, message: 'is only presented with mode MUTUAL (SIMPLE sends no client certificate); set mode: MUTUAL, or remove it' });
    }
  }
  if (settings.insecureSkipVerify === true) {
    for (const f of VERIFICATION_FIELDS) {
      if (isSet(settings[f])) issues.push({ path: `${path}.${f}`, message: 'cannot be combined with insecureSkipVerify: true, which skips every check of the server certificate; remove one of the two' });
    }
  }
}

/** connectionPool, outlierDetection, loadBalancer and portLevelSettings (with each port's tls). */
function checkPolicyParts(policy: TrafficPolicy | undefined, path: string, issues: Issue[]): void {
  checkTrafficPolicyParts(policy, path, issues);
  policy?.portLevelSettings?.forEach((p, i) => checkTls(p.tls, `${path}.portLevelSettings[${i}].tls`, issues));
}

function checkDestinationRule(dr: DestinationRule, issues: Issue[]): void {
  const seen = new Set<string>();
  checkTls(dr.spec.trafficPolicy?.tls, 'spec.trafficPolicy.tls', issues);
  checkPolicyParts(dr.spec.trafficPolicy, 'spec.trafficPolicy', issues);
  checkRetryBudget(dr.spec.trafficPolicy?.retryBudget, 'spec.trafficPolicy.retryBudget', issues);
  dr.spec.subsets?.forEach((s, i) => {
    if (seen.has(s.name)) issues.push({ path: `spec.subsets[${i}].name`, message: `duplicate subset ${quote(s.name)}` });
    seen.add(s.name);
    checkTls(s.trafficPolicy?.tls, `spec.subsets[${i}].trafficPolicy.tls`, issues);
    checkPolicyParts(s.trafficPolicy, `spec.subsets[${i}].trafficPolicy`, issues);
    checkRetryBudget(s.trafficPolicy?.retryBudget, `spec.subsets[${i}].trafficPolicy.retryBudget`, issues);
  });
}

export const DESTINATION_RULE: KindDefinition<'DestinationRule', DestinationRuleSpec> = {
  info: {
    kind: 'DestinationRule',
    group: 'networking.istio.io',
    apiVersions: ['v1', 'v1beta1', 'v1alpha3'],
    plural: 'destinationrules',
    singular: 'destinationrule',
    shortNames: ['dr'],
  },
  spec: {
    t: 'object',
    fields: {
      host: host('destinationRule'),
      trafficPolicy,
      subsets: {
        t: 'array',
        of: { t: 'object', fields: { name: dnsLabel('subset name'), labels: labelMap, trafficPolicy }, required: ['name'] },
      },
    },
    required: ['host'],
    unsupported: ['exportTo', 'workloadSelector'],
  },
  checkMeaning: checkDestinationRule,
};
