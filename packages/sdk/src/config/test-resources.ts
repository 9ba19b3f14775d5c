// Builds ConfigUpdate resources as weftd sends them (spec as JSON), for tests.
import type { ResourceMsg } from '@weft/api';

let created = 1_000;

export function resourceMsg(kind: 'VirtualService' | 'DestinationRule' | 'AuthorizationPolicy', namespace: string, name: string, spec: unknown, createdMs = created++): ResourceMsg {
  return {
    kind,
    apiVersion: kind === 'AuthorizationPolicy' ? 'security.istio.io/v1' : 'networking.istio.io/v1',
    namespace,
    name,
    version: '1',
    specJson: JSON.stringify(spec),
    createdMs,
  };
}
