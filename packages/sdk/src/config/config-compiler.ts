// Keeps the compiled config of the received resource set up to date, change by change. An update
// compiles only the resources that changed and re-decides only the hosts they name (which
// VirtualService owns a host, which DestinationRule applies to it), so its cost follows the size of
// the change, not of the set. Unchanged resources keep their compiled objects, so consumers can
// compare them by identity.
import type { ResourceMsg } from '@weft/api';
import type { CompiledAuthorizationPolicy } from './authorization-policy.js';
import { compileResource, ConfigRejectedError, describeResource, type CompiledPiece, type DestinationRulePiece } from './compile.js';
import type { CompiledConfig, CompiledDestinationRule, HostRoutes } from './compiled.js';
import { DEFAULT_PEER_AUTHENTICATION, peerAuthenticationFor, type CompiledPeerAuthentication, type WorkloadPeerAuthentication } from './peer-authentication.js';
import { authorizationFor, NO_AUTHORIZATION, type WorkloadAuthorization, type WorkloadScope } from './workload-authorization.js';
import { resourceMsgKey, type ResourceChange } from './received-config.js';

/** A compiled resource of the set, with what orders it among resources claiming the same host. */
interface Entry {
  createdMs: number;
  /** `<namespace>/<name>`: the tie-break when two resources were created in the same millisecond. */
  name: string;
  piece: CompiledPiece;
}

/** A VirtualService's claim on one host: its route table for that host. */
interface RouteClaim {
  entry: Entry;
  table: HostRoutes;
  destinations: readonly string[];
}

/** A DestinationRule's claim on its host. */
interface RuleClaim {
  entry: Entry;
  piece: DestinationRulePiece;
}

/** Older first, then by namespace/name: the resource that wins when several claim one host. */
function olderFirst(a: Entry, b: Entry): number {
  if (a.createdMs !== b.createdMs) return a.createdMs - b.createdMs;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function insertByAge<T extends { entry: Entry }>(list: T[], claim: T): void {
  let i = list.length;
  while (i > 0 && olderFirst(list[i - 1]!.entry, claim.entry) > 0) i--;
  list.splice(i, 0, claim);
}

export class ConfigCompiler {
  private readonly entries = new Map<string, Entry>();
  /** Held resources that cannot be compiled, with why; while any is held, updates are rejected. */
  private readonly rejected = new Map<string, string>();
  private readonly routeClaims = new Map<string, RouteClaim[]>();
  private readonly ruleClaims = new Map<string, RuleClaim[]>();
  // The tables of the whole set. Never mutated once built (a published config may share them); an
  // update that touches them builds new ones from these.
  private routes: ReadonlyMap<string, HostRoutes> = new Map();
  private routedHosts: ReadonlyMap<string, readonly string[]> = new Map();
  private destinationRules: ReadonlyMap<string, CompiledDestinationRule> = new Map();
  private readonly policies = new Map<string, CompiledAuthorizationPolicy>();
  private authorization: WorkloadAuthorization = NO_AUTHORIZATION;
  private readonly peerPolicies = new Map<string, CompiledPeerAuthentication>();
  private peerAuthentication: WorkloadPeerAuthentication = DEFAULT_PEER_AUTHENTICATION;
  private readonly scope: WorkloadScope;

  /** `scope`: the workload whose AuthorizationPolicies and PeerAuthentications to choose; default: no labels, root namespace istio-system. */
  constructor(
    private readonly callerNamespace: string,
    scope?: WorkloadScope,
  ) {
    this.scope = scope ?? { namespace: callerNamespace, labels: {}, rootNamespace: 'istio-system' };
  }

  /** How many resources of the set compiled. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Takes in changes of the received set and returns the compiled config of the whole set at
   * `version`. Throws ConfigRejectedError naming a held resource that cannot be compiled; the changes
   * are taken in all the same (the set is what weftd sent), so a later change that fixes or removes
   * that resource compiles again.
   */
  update(version: string, changes: Iterable<ResourceChange>): CompiledConfig {
    const routeHosts = new Set<string>();
    const ruleHosts = new Set<string>();
    let policiesChanged = false;
    let peerPoliciesChanged = false;
    for (const { key, resource } of changes) {
      if (this.policies.has(key) || resource?.kind === 'AuthorizationPolicy') policiesChanged = true;
      if (this.peerPolicies.has(key) || resource?.kind === 'PeerAuthentication') peerPoliciesChanged = true;
      this.remove(key, routeHosts, ruleHosts);
      if (resource) this.add(key, resource, routeHosts, ruleHosts);
    }
    if (routeHosts.size > 0) this.redecideRoutes(routeHosts);
    if (ruleHosts.size > 0) this.redecideRules(ruleHosts);
    if (policiesChanged) this.authorization = authorizationFor(this.policies.values(), this.scope);
    if (peerPoliciesChanged) this.peerAuthentication = peerAuthenticationFor(this.peerPolicies.values(), this.scope);
    if (this.rejected.size > 0) throw new ConfigRejectedError(this.rejection());
    return {
      version,
      routes: this.routes,
      destinationRules: this.destinationRules,
      routedHosts: this.routedHosts,
      authorization: this.authorization,
      peerAuthentication: this.peerAuthentication,
    };
  }

  private add(key: string, msg: ResourceMsg, routeHosts: Set<string>, ruleHosts: Set<string>): void {
    let piece: CompiledPiece;
    try {
      piece = compileResource(msg);
    } catch (e) {
      this.rejected.set(key, e instanceof ConfigRejectedError ? e.message : `${describeResource(msg)}: cannot compile: ${(e as Error).message}`);
      return;
    }
    const entry: Entry = { createdMs: msg.createdMs, name: `${msg.namespace}/${msg.name}`, piece };
    this.entries.set(key, entry);
    if (piece.kind === 'AuthorizationPolicy') {
      this.policies.set(key, piece.policy);
      return;
    }
    if (piece.kind === 'PeerAuthentication') {
      this.peerPolicies.set(key, piece.policy);
      return;
    }
    if (piece.kind === 'DestinationRule') {
      const host = piece.rule.host;
      insertByAge(this.claimsOf(this.ruleClaims, host), { entry, piece });
      ruleHosts.add(host);
      return;
    }
    for (const table of piece.tables) {
      insertByAge(this.claimsOf(this.routeClaims, table.host), { entry, table, destinations: piece.destinations });
      routeHosts.add(table.host);
    }
  }

  private remove(key: string, routeHosts: Set<string>, ruleHosts: Set<string>): void {
    this.rejected.delete(key);
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    const piece = entry.piece;
    if (piece.kind === 'AuthorizationPolicy') {
      this.policies.delete(key);
      return;
    }
    if (piece.kind === 'PeerAuthentication') {
      this.peerPolicies.delete(key);
      return;
    }
    if (piece.kind === 'DestinationRule') {
      dropClaim(this.ruleClaims, piece.rule.host, entry);
      ruleHosts.add(piece.rule.host);
      return;
    }
    for (const table of piece.tables) {
      dropClaim(this.routeClaims, table.host, entry);
      routeHosts.add(table.host);
    }
  }

  private claimsOf<T>(claims: Map<string, T[]>, host: string): T[] {
    let list = claims.get(host);
    if (!list) claims.set(host, (list = []));
    return list;
  }

  /** The oldest VirtualService naming a host owns it. */
  private redecideRoutes(hosts: Set<string>): void {
    const routes = new Map(this.routes);
    const routedHosts = new Map(this.routedHosts);
    for (const host of hosts) {
      const owner = this.routeClaims.get(host)?.[0];
      if (owner === undefined) {
        routes.delete(host);
        routedHosts.delete(host);
      } else {
        routes.set(host, owner.table);
        routedHosts.set(host, owner.destinations);
      }
    }
    this.routes = routes;
    this.routedHosts = routedHosts;
  }

  /** Istio's lookup order for a host: a rule in the caller's namespace, then in the host's, then the oldest. */
  private redecideRules(hosts: Set<string>): void {
    const rules = new Map(this.destinationRules);
    for (const host of hosts) {
      const hostNamespace = host.split('.')[1];
      let best: RuleClaim | undefined;
      let bestRank = 3;
      for (const claim of this.ruleClaims.get(host) ?? []) {
        const ns = claim.piece.namespace;
        const rank = ns === this.callerNamespace ? 0 : ns === hostNamespace ? 1 : 2;
        if (rank < bestRank) [best, bestRank] = [claim, rank]; // oldest first, so ties keep the older
      }
      if (best === undefined) rules.delete(host);
      else rules.set(host, best.piece.rule);
    }
    this.destinationRules = rules;
  }

  private rejection(): string {
    const [first] = this.rejected.values();
    const more = this.rejected.size - 1;
    return more === 0 ? first! : `${first!} (and ${more} more resource${more === 1 ? '' : 's'} that cannot be applied)`;
  }
}

function dropClaim<T extends { entry: Entry }>(claims: Map<string, T[]>, host: string, entry: Entry): void {
  const list = claims.get(host);
  if (!list) return;
  const i = list.findIndex((c) => c.entry === entry);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) claims.delete(host);
}

/** Compiles a whole resource set at once (one snapshot); throws ConfigRejectedError as update() does. */
export function compileConfig(version: string, resources: readonly ResourceMsg[], callerNamespace: string, scope?: WorkloadScope): CompiledConfig {
  return new ConfigCompiler(callerNamespace, scope).update(
    version,
    resources.map((resource) => ({ key: resourceMsgKey(resource), resource })),
  );
}
