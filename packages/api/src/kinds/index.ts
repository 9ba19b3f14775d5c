// Every kind Weft accepts, each defined in its own file, and the Istio kinds it knows but refuses.
import { AUTHORIZATION_POLICY } from './authorization-policy.js';
import { DESTINATION_RULE } from './destination-rule.js';
import type { KindDefinition } from './kind.js';
import { PEER_AUTHENTICATION } from './peer-authentication.js';
import { VIRTUAL_SERVICE } from './virtual-service.js';

export const KIND_DEFINITIONS = [VIRTUAL_SERVICE, DESTINATION_RULE, AUTHORIZATION_POLICY, PEER_AUTHENTICATION] as const;

/** The definition of a kind by its exact name (`VirtualService`), or undefined. */
export function kindDefinition(kind: string): KindDefinition<string, unknown> | undefined {
  return (KIND_DEFINITIONS as readonly KindDefinition<string, never>[]).find((d) => d.info.kind === kind) as KindDefinition<string, unknown> | undefined;
}

/**
 * Istio kinds Weft refuses on purpose, with why: accepting one it cannot enforce would leave the user
 * believing in a protection that is not there.
 */
export const REFUSED_KINDS: Readonly<Record<string, string>> = {
  RequestAuthentication: 'Weft does not validate JWTs yet, so it cannot enforce RequestAuthentication',
};
