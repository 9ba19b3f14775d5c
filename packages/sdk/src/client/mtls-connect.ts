// Auto-mTLS for a mesh endpoint (Istio's ISTIO_MUTUAL): the caller presents its workload certificate and
// accepts the server only if its chain leads to the trust bundle AND its SPIFFE ID is the identity
// registered for the endpoint (spiffe://<td>/ns/<service namespace>/sa/<instance service account>).
// The hostname is never what is checked: endpoints are IP addresses, and a certificate that chains to
// the mesh CA but belongs to another service account is exactly the impersonation to refuse.
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';
import { verifyPeer } from '@weft/ca';
import type { Endpoint } from '../balancer/endpoint.js';
import { AUTO_MTLS, type ClientTls, type CompiledConfig } from '../config/compiled.js';
import type { TlsMaterial } from '../identity/tls-material.js';
import type { OutboundRequest } from './pipeline.js';

/** The `code` of the error a refused server identity fails the connection with. */
export const PEER_IDENTITY_ERROR = 'ERR_WEFT_PEER_IDENTITY';

export function expectedSpiffeId(endpoint: Endpoint, trustDomain: string): string {
  return `spiffe://${trustDomain}/ns/${endpoint.namespace ?? ''}/sa/${endpoint.serviceAccount}`;
}

/** True when a call to `endpoint` goes over mTLS: it accepts it and the caller holds a certificate. */
export function speaksMtls(endpoint: Endpoint, material: TlsMaterial | null): material is TlsMaterial {
  return material !== null && endpoint.mtls === true && !!endpoint.serviceAccount && !!endpoint.namespace;
}

/**
 * DestinationRule trafficPolicy.tls for a request. Routed (mesh) requests: the subset's, else the rule's,
 * else auto-mTLS. Requests leaving the mesh: the rule of the host as named, when it originates TLS
 * (SIMPLE / MUTUAL); otherwise the request goes as written (the egress stage keeps a host whose rule
 * sets another mode in the mesh). IP literals and localhost have no DestinationRule.
 */
export function clientTlsOf(config: CompiledConfig, req: OutboundRequest): ClientTls {
  if (req.external) {
    if (req.target.kind !== 'dns') return AUTO_MTLS;
    return config.destinationRules.get(req.target.fqdn)?.tls ?? AUTO_MTLS;
  }
  const route = req.route;
  if (!route) return AUTO_MTLS;
  const rule = config.destinationRules.get(route.host);
  if (!rule) return AUTO_MTLS;
  return (route.subset !== undefined ? rule.subsets.get(route.subset)?.tls : undefined) ?? rule.tls;
}

/** undici `connect` options for one endpoint and one generation of the caller's certificate. */
export function mtlsConnectOptions(endpoint: Endpoint, material: TlsMaterial) {
  const expected = expectedSpiffeId(endpoint, material.trustDomain);
  return {
    key: material.keyPem,
    cert: material.chainPem,
    ca: material.bundlePem,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2' as const,
    // Called by Node after OpenSSL verified the chain against `ca`: the identity check replaces the hostname check.
    checkServerIdentity: (_host: string, cert: PeerCertificate): Error | undefined => {
      const verdict = verifyPeer(chainOf(cert as DetailedPeerCertificate), material.bundle, { expectedId: expected });
      if (verdict.ok) return undefined;
      return Object.assign(new Error(`server identity refused: ${verdict.message} (expected ${expected})`), { code: PEER_IDENTITY_ERROR, reason: verdict.reason });
    },
  };
}

function chainOf(cert: DetailedPeerCertificate): Buffer[] {
  const chain: Buffer[] = [];
  let c: DetailedPeerCertificate | undefined = cert;
  while (c?.raw && chain.length < 10) {
    chain.push(c.raw);
    if (c.issuerCertificate === c) break;
    c = c.issuerCertificate;
  }
  return chain;
}
