// VirtualService (networking.istio.io): the routes of the hosts it names.
import { quote, type Issue } from '../errors.js';
import { dnsLabel, host, headerNameProblem, nonEmptyStr, port, str, type Schema } from '../schema.js';
import type { KindDefinition, ResourceOf } from './kind.js';
import { checkRoutePolicies, ROUTE_POLICY_FIELDS, type HTTPRoutePolicies } from './route-policies.js';
import { checkMatchConditions, checkRouteActions, HEADERS_SCHEMA, MATCH_CONDITION_FIELDS, ROUTE_ACTION_FIELDS, type Headers, type HTTPMatchConditions, type HTTPRouteActions } from './route-actions.js';

/** Istio's StringMatch: exactly one of exact, prefix, regex (RE2-style, full match). */
export type StringMatch = { exact: string } | { prefix: string } | { regex: string };

/** withoutHeaders, queryParams, ignoreUriCase, sourceLabels, sourceNamespace: see route-actions.ts. */
export interface HTTPMatchRequest extends HTTPMatchConditions {
  name?: string;
  uri?: StringMatch;
  method?: StringMatch;
  /** Header name (lower case) → match; an empty match `{}` tests presence. */
  headers?: Record<string, StringMatch | Record<string, never>>;
  /** Service port the request was addressed to. */
  port?: number;
}

export interface PortSelector { number: number }

export interface Destination {
  host: string;
  subset?: string;
  port?: PortSelector;
}

export interface HTTPRouteDestination {
  destination: Destination;
  weight?: number;
  /** Header operations for requests sent to this destination (after the route's, as Envoy). */
  headers?: Headers;
}

/** timeout, retries, fault, mirror(s): see route-policies.ts; headers, rewrite, redirect, directResponse: route-actions.ts. */
export interface HTTPRoute extends HTTPRoutePolicies, HTTPRouteActions {
  name?: string;
  match?: HTTPMatchRequest[];
  /** Absent only with redirect or directResponse. */
  route?: HTTPRouteDestination[];
}

export interface VirtualServiceSpec {
  hosts: string[];
  gateways?: string[];
  http?: HTTPRoute[];
}

export type VirtualService = ResourceOf<'VirtualService', VirtualServiceSpec>;

/** Istio's weights are int32. */
const MAX_WEIGHT = 2 ** 31 - 1;

const destination: Schema = {
  t: 'object',
  fields: { host: host('destination'), subset: dnsLabel('subset name'), port: { t: 'object', fields: { number: port }, required: ['number'] } },
  required: ['host'],
};

const httpMatch: Schema = {
  t: 'object',
  fields: {
    name: str,
    uri: { t: 'stringMatch' },
    method: { t: 'stringMatch' },
    headers: { t: 'map', key: headerNameProblem, of: { t: 'headerMatch' } },
    port,
    ...MATCH_CONDITION_FIELDS,
  },
  unsupported: ['scheme', 'authority', 'gateways', 'statPrefix'],
};

const httpRoute: Schema = {
  t: 'object',
  fields: {
    name: str,
    match: { t: 'array', of: httpMatch },
    route: {
      t: 'array',
      nonEmpty: true,
      of: { t: 'object', fields: { destination, weight: { t: 'int', min: 0, max: MAX_WEIGHT }, headers: HEADERS_SCHEMA }, required: ['destination'] },
    },
    ...ROUTE_POLICY_FIELDS,
    ...ROUTE_ACTION_FIELDS,
  },
  // route is required unless the route redirects or answers directly (checkRouteActions).
  unsupported: [
    'delegate', 'corsPolicy', 'appendHeaders', 'removeResponseHeaders',
    'appendResponseHeaders', 'removeRequestHeaders', 'appendRequestHeaders',
  ],
};

function checkVirtualService(vs: VirtualService, issues: Issue[]): void {
  const spec = vs.spec;
  spec.gateways?.forEach((g, i) => {
    if (g !== 'mesh') issues.push({ path: `spec.gateways[${i}]`, message: `only the reserved gateway "mesh" is supported, got ${quote(g)}` });
  });
  spec.http?.forEach((route, r) => {
    checkRoutePolicies(route, `spec.http[${r}]`, issues);
    checkRouteActions(route, `spec.http[${r}]`, issues);
    route.match?.forEach((m, i) => checkMatchConditions(m, `spec.http[${r}].match[${i}]`, issues));
    const dests = route.route ?? [];
    if (dests.length > 1) {
      const total = dests.reduce((s, d) => s + (typeof d.weight === 'number' ? d.weight : 0), 0);
      if (total === 0) {
        issues.push({ path: `spec.http[${r}].route`, message: 'the weights of these destinations add up to 0, so no request could be routed; give at least one a weight above 0' });
      }
    }
  });
}

export const VIRTUAL_SERVICE: KindDefinition<'VirtualService', VirtualServiceSpec> = {
  info: {
    kind: 'VirtualService',
    group: 'networking.istio.io',
    apiVersions: ['v1', 'v1beta1', 'v1alpha3'],
    plural: 'virtualservices',
    singular: 'virtualservice',
    shortNames: ['vs'],
  },
  spec: {
    t: 'object',
    fields: { hosts: { t: 'array', of: host('virtualService'), nonEmpty: true }, gateways: { t: 'array', of: nonEmptyStr }, http: { t: 'array', of: httpRoute } },
    required: ['hosts'],
    unsupported: ['tls', 'tcp', 'exportTo'],
  },
  checkMeaning: checkVirtualService,
};
