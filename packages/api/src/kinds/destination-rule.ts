// DestinationRule (networking.istio.io): how traffic to a host is balanced, and its subsets.
import { quote, type Issue } from '../errors.js';
import { dnsLabel, host, labelMap, type Schema } from '../schema.js';
import type { KindDefinition, ResourceOf } from './kind.js';

export type SimpleLB = 'UNSPECIFIED' | 'LEAST_CONN' | 'RANDOM' | 'ROUND_ROBIN' | 'LEAST_REQUEST';

export interface LoadBalancerSettings { simple?: SimpleLB }

/**
 * ISTIO_MUTUAL: the mesh's mTLS (what an absent setting means: auto-mTLS, used when the endpoint accepts
 * it); DISABLE: plaintext. SIMPLE and MUTUAL (TLS to destinations outside the mesh) are not supported yet.
 */
export type ClientTlsMode = 'DISABLE' | 'ISTIO_MUTUAL';

export interface ClientTlsSettings { mode?: ClientTlsMode }

export interface TrafficPolicy { loadBalancer?: LoadBalancerSettings; tls?: ClientTlsSettings }

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

const loadBalancer: Schema = {
  t: 'object',
  fields: {
    simple: {
      t: 'enum',
      values: ['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'ROUND_ROBIN', 'LEAST_REQUEST'],
      unsupported: ['PASSTHROUGH'],
    },
  },
  unsupported: ['consistentHash', 'localityLbSetting', 'warmup', 'warmupDurationSecs'],
};

const tls: Schema = {
  t: 'object',
  fields: { mode: { t: 'enum', values: ['DISABLE', 'ISTIO_MUTUAL'], unsupported: ['SIMPLE', 'MUTUAL'] } },
  // With SIMPLE and MUTUAL (TLS to destinations outside the mesh), once Weft supports them.
  unsupported: ['clientCertificate', 'privateKey', 'caCertificates', 'credentialName', 'subjectAltNames', 'sni', 'insecureSkipVerify', 'caCrl'],
};

const trafficPolicy: Schema = {
  t: 'object',
  fields: { loadBalancer, tls },
  unsupported: ['connectionPool', 'outlierDetection', 'portLevelSettings', 'tunnel', 'proxyProtocol', 'retryBudget'],
};

function checkDestinationRule(dr: DestinationRule, issues: Issue[]): void {
  const seen = new Set<string>();
  dr.spec.subsets?.forEach((s, i) => {
    if (seen.has(s.name)) issues.push({ path: `spec.subsets[${i}].name`, message: `duplicate subset ${quote(s.name)}` });
    seen.add(s.name);
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
