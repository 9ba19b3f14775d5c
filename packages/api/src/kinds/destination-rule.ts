// DestinationRule (networking.istio.io): how traffic to a host is balanced, and its subsets.
import { quote, type Issue } from '../errors.js';
import { dnsLabel, host, labelMap, type Schema } from '../schema.js';
import type { KindDefinition, ResourceOf } from './kind.js';

export type SimpleLB = 'UNSPECIFIED' | 'LEAST_CONN' | 'RANDOM' | 'ROUND_ROBIN' | 'LEAST_REQUEST';

export interface LoadBalancerSettings { simple?: SimpleLB }

export interface TrafficPolicy { loadBalancer?: LoadBalancerSettings }

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

const trafficPolicy: Schema = {
  t: 'object',
  fields: { loadBalancer },
  unsupported: ['connectionPool', 'outlierDetection', 'tls', 'portLevelSettings', 'tunnel', 'proxyProtocol', 'retryBudget'],
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
