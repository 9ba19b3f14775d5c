// AuthorizationPolicy (security.istio.io): which requests a workload accepts. Istio's fields and
// rules (https://istio.io/latest/docs/reference/config/security/authorization-policy/); what Weft
// cannot enforce yet is refused with its path, never accepted and ignored.
import { quote, type Issue } from '../errors.js';
import { parseIpBlock } from '../ip.js';
import { labelMap, nonEmptyStr, type Schema } from '../schema.js';
import type { KindDefinition, ResourceOf } from './kind.js';

export type AuthorizationAction = 'ALLOW' | 'DENY';

/** Every value list matches with Istio's forms: exact `abc`, prefix `abc*`, suffix `*abc`, presence `*`. */
export interface AuthorizationSource {
  principals?: string[];
  notPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

export interface AuthorizationOperation {
  hosts?: string[];
  notHosts?: string[];
  /** Port numbers as strings, as Istio writes them. */
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface AuthorizationCondition {
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface AuthorizationRule {
  from?: { source: AuthorizationSource }[];
  to?: { operation: AuthorizationOperation }[];
  when?: AuthorizationCondition[];
}

export interface AuthorizationPolicySpec {
  selector?: { matchLabels?: Record<string, string> };
  /** Default ALLOW. */
  action?: AuthorizationAction;
  /** Not set: the policy never matches (an ALLOW policy then denies everything). */
  rules?: AuthorizationRule[];
}

export type AuthorizationPolicy = ResourceOf<'AuthorizationPolicy', AuthorizationPolicySpec>;

/** The `when` keys Weft evaluates; `request.headers[<name>]` is matched apart. */
export const AUTHORIZATION_CONDITION_KEYS = ['source.ip', 'remote.ip', 'source.namespace', 'source.principal', 'destination.port'] as const;
/** Istio's other keys: known, but not evaluated by Weft yet. */
const UNSUPPORTED_CONDITION_KEYS = ['source.serviceAccount', 'destination.ip', 'connection.sni', 'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter'];
const NEEDS_JWT = 'it needs JWT request authentication (RequestAuthentication), which Weft does not have yet';

const values: Schema = { t: 'array', of: nonEmptyStr };

const source: Schema = {
  t: 'object',
  fields: {
    principals: values,
    notPrincipals: values,
    namespaces: values,
    notNamespaces: values,
    ipBlocks: values,
    notIpBlocks: values,
    remoteIpBlocks: values,
    notRemoteIpBlocks: values,
  },
  unsupported: ['requestPrincipals', 'notRequestPrincipals', 'serviceAccounts', 'notServiceAccounts', 'trustDomains', 'notTrustDomains'],
  unsupportedWhy: { requestPrincipals: NEEDS_JWT, notRequestPrincipals: NEEDS_JWT },
};

const operation: Schema = {
  t: 'object',
  fields: { hosts: values, notHosts: values, ports: values, notPorts: values, methods: values, notMethods: values, paths: values, notPaths: values },
};

const rule: Schema = {
  t: 'object',
  fields: {
    from: { t: 'array', of: { t: 'object', fields: { source }, required: ['source'] } },
    to: { t: 'array', of: { t: 'object', fields: { operation }, required: ['operation'] } },
    when: { t: 'array', of: { t: 'object', fields: { key: nonEmptyStr, values, notValues: values }, required: ['key'] } },
  },
};

/** `request.headers[x-user]` → `x-user`; undefined for any other key. */
export function conditionHeaderName(key: string): string | undefined {
  const m = /^request\.headers\[(.+)\]$/.exec(key);
  return m?.[1];
}

function portProblem(s: string): string | undefined {
  if (!/^[0-9]{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) return `${quote(s)} is not a port number (1..65535, written as a string)`;
  return undefined;
}

function ipProblem(s: string): string | undefined {
  const block = parseIpBlock(s);
  return typeof block === 'string' ? block : undefined;
}

function pathProblem(s: string): string | undefined {
  if (s.includes('{')) return `${quote(s)}: path templates ({*}, {**}) are not supported by Weft yet; use a prefix "/abc*" or suffix "*abc" form`;
  return undefined;
}

/** Each value of `list` checked by `problem`, with its index in the path. */
function checkValues(list: string[] | undefined, path: string, problem: (s: string) => string | undefined, issues: Issue[]): void {
  list?.forEach((v, i) => {
    const p = problem(v);
    if (p) issues.push({ path: `${path}[${i}]`, message: p });
  });
}

/** Whether an object holds at least one non-empty list (Istio: an empty source or operation is an error). */
function setsSomething(o: object): boolean {
  return Object.values(o).some((v) => Array.isArray(v) && v.length > 0);
}

function checkCondition(c: AuthorizationCondition, path: string, issues: Issue[]): void {
  if (!(c.values?.length || c.notValues?.length)) issues.push({ path, message: `set values or notValues for the key ${quote(c.key)}` });
  const header = conditionHeaderName(c.key);
  let problem: ((s: string) => string | undefined) | undefined;
  if (header !== undefined) {
    if (header !== header.trim() || header.length === 0) issues.push({ path: `${path}.key`, message: `${quote(c.key)}: the header name is empty or has spaces` });
  } else if (c.key === 'source.ip' || c.key === 'remote.ip') problem = ipProblem;
  else if (c.key === 'destination.port') problem = portProblem;
  else if (c.key.startsWith('request.auth.claims[') || UNSUPPORTED_CONDITION_KEYS.includes(c.key)) {
    const why = c.key.startsWith('request.auth.') ? NEEDS_JWT : 'Weft does not evaluate it yet';
    issues.push({ path: `${path}.key`, message: `the key ${quote(c.key)} is not supported by Weft yet: ${why}` });
  } else if (!(AUTHORIZATION_CONDITION_KEYS as readonly string[]).includes(c.key)) {
    issues.push({
      path: `${path}.key`,
      message: `unknown key ${quote(c.key)}; supported: request.headers[<name>], ${AUTHORIZATION_CONDITION_KEYS.join(', ')}`,
    });
  }
  if (problem) {
    checkValues(c.values, `${path}.values`, problem, issues);
    checkValues(c.notValues, `${path}.notValues`, problem, issues);
  }
}

function checkAuthorizationPolicy(ap: AuthorizationPolicy, issues: Issue[]): void {
  const spec = ap.spec as AuthorizationPolicySpec & { provider?: unknown };
  if (spec.provider !== undefined) issues.push({ path: 'spec.provider', message: 'is only used with action CUSTOM, which Weft does not support yet' });
  spec.rules?.forEach((r, i) => {
    const at = `spec.rules[${i}]`;
    r.from?.forEach((f, j) => {
      const path = `${at}.from[${j}].source`;
      if (!setsSomething(f.source)) issues.push({ path, message: 'must set at least one field (a source that names nothing is an error in Istio too)' });
      for (const field of ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const) checkValues(f.source[field], `${path}.${field}`, ipProblem, issues);
    });
    r.to?.forEach((t, j) => {
      const path = `${at}.to[${j}].operation`;
      if (!setsSomething(t.operation)) issues.push({ path, message: 'must set at least one field (an operation that names nothing is an error in Istio too)' });
      checkValues(t.operation.ports, `${path}.ports`, portProblem, issues);
      checkValues(t.operation.notPorts, `${path}.notPorts`, portProblem, issues);
      checkValues(t.operation.paths, `${path}.paths`, pathProblem, issues);
      checkValues(t.operation.notPaths, `${path}.notPaths`, pathProblem, issues);
    });
    r.when?.forEach((c, j) => checkCondition(c, `${at}.when[${j}]`, issues));
  });
}

export const AUTHORIZATION_POLICY: KindDefinition<'AuthorizationPolicy', AuthorizationPolicySpec> = {
  info: {
    kind: 'AuthorizationPolicy',
    group: 'security.istio.io',
    apiVersions: ['v1', 'v1beta1'],
    plural: 'authorizationpolicies',
    singular: 'authorizationpolicy',
    shortNames: ['ap'],
  },
  spec: {
    t: 'object',
    fields: {
      selector: { t: 'object', fields: { matchLabels: labelMap } },
      action: { t: 'enum', values: ['ALLOW', 'DENY'], unsupported: ['AUDIT', 'CUSTOM'] },
      // Checked in checkAuthorizationPolicy, where the action is known.
      provider: { t: 'object', fields: { name: nonEmptyStr } },
      rules: { t: 'array', of: rule },
    },
    unsupported: ['targetRef', 'targetRefs'],
  },
  checkMeaning: checkAuthorizationPolicy,
};
