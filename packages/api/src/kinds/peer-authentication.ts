// PeerAuthentication (security.istio.io): whether a workload's served ports accept plaintext, mTLS or
// both (https://istio.io/latest/docs/reference/config/security/peer_authentication/). Mesh-wide in the
// root namespace, namespace-wide without a selector, per workload with one; `portLevelMtls` (keyed by
// the port the workload listens on, Istio's container port) needs a selector, as in Istio.
import { quote, type Issue } from '../errors.js';
import { labelMap, type Schema } from '../schema.js';
import type { KindDefinition, ResourceOf } from './kind.js';

/** UNSET inherits from the next wider policy; with none, PERMISSIVE (Istio's default). */
export type MtlsMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export interface PeerAuthenticationSpec {
  selector?: { matchLabels?: Record<string, string> };
  mtls?: { mode?: MtlsMode };
  /** Keyed by port number (as a string, as YAML map keys are). */
  portLevelMtls?: Record<string, { mode?: MtlsMode }>;
}

export type PeerAuthentication = ResourceOf<'PeerAuthentication', PeerAuthenticationSpec>;

const mtls: Schema = { t: 'object', fields: { mode: { t: 'enum', values: ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] } } };

function portKeyProblem(key: string): string | undefined {
  const n = Number(key);
  return /^[0-9]+$/.test(key) && n >= 1 && n <= 65535 ? undefined : `port ${quote(key)} must be a number 1..65535 (the port the workload listens on)`;
}

function checkPeerAuthentication(pa: PeerAuthentication, issues: Issue[]): void {
  const ports = pa.spec.portLevelMtls;
  if (ports && Object.keys(ports).length > 0 && !pa.spec.selector?.matchLabels) {
    issues.push({ path: 'spec.portLevelMtls', message: 'needs a selector: port-level mTLS applies to the ports of selected workloads only (Istio refuses it on a namespace- or mesh-wide policy too)' });
  }
}

export const PEER_AUTHENTICATION: KindDefinition<'PeerAuthentication', PeerAuthenticationSpec> = {
  info: {
    kind: 'PeerAuthentication',
    group: 'security.istio.io',
    apiVersions: ['v1', 'v1beta1'],
    plural: 'peerauthentications',
    singular: 'peerauthentication',
    shortNames: ['pa'],
  },
  spec: {
    t: 'object',
    fields: {
      selector: { t: 'object', fields: { matchLabels: labelMap } },
      mtls,
      portLevelMtls: { t: 'map', key: portKeyProblem, of: mtls },
    },
  },
  checkMeaning: checkPeerAuthentication,
};
