// The tls a request goes out with, port-level settings included: a mesh request's cluster has it merged
// (rule, subset, portLevelSettings: config/traffic-policy.ts); a request to a host outside the mesh
// that a DestinationRule names takes the rule's, or its portLevelSettings entry for the URL's port
// (443 for https, 80 for http when the URL names none). Everything else is mtls-connect.ts's clientTlsOf.
import { AUTO_MTLS, type ClientTls, type CompiledConfig, type CompiledDestinationRule } from '../config/compiled.js';
import { clusterPolicy } from '../config/traffic-policy.js';
import { clientTlsOf } from './mtls-connect.js';
import type { OutboundRequest } from './pipeline.js';

/** Per rule object (a new config makes new ones): port → tls. */
const byPort = new WeakMap<CompiledDestinationRule, Map<number, ClientTls>>();

export function clusterTlsOf(config: CompiledConfig, req: OutboundRequest): ClientTls {
  if (req.cluster !== undefined) return req.cluster.policy.tls;
  if (req.external && req.target.kind === 'dns') {
    const rule = config.destinationRules.get(req.target.fqdn);
    if (rule?.traffic === undefined || rule.traffic.ports.size === 0) return rule?.tls ?? AUTO_MTLS;
    const port = req.target.servicePort ?? (req.target.scheme === 'https' ? 443 : 80);
    let ports = byPort.get(rule);
    if (ports === undefined) byPort.set(rule, (ports = new Map()));
    let tls = ports.get(port);
    if (tls === undefined) ports.set(port, (tls = clusterPolicy(rule.traffic, undefined, port).tls));
    return tls;
  }
  return clientTlsOf(config, req);
}
