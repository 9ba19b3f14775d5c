// One endpoint the client can send to. The object is kept stable across endpoint updates (same
// instance, address and port → same object) so that balancer state that lives on it, the count of
// outstanding requests, survives pushes.

export interface Endpoint {
  /** `http://address:port`: the transport keys its connection pools by it. */
  readonly origin: string;
  readonly address: string;
  readonly port: number;
  readonly protocol: string;
  /** 0 = serves every service port. */
  readonly servicePort: number;
  readonly instanceId: string;
  readonly workloadName: string;
  readonly serviceAccount: string;
  /** The namespace of the service it serves; with serviceAccount, the identity it must prove over mTLS. */
  readonly namespace?: string;
  /** It accepts mTLS (its workload holds a certificate): callers with an identity use it. */
  readonly mtls?: boolean;
  readonly labels: Readonly<Record<string, string>>;
  /** Requests sent to it whose response body has not ended yet (LEAST_REQUEST reads it). */
  outstanding: number;
  /** When it joined the client's view (performance.now() ms): slow start (warmup) ramps its weight from there. */
  readonly addedAt?: number;
}

export function originOf(address: string, port: number, scheme: 'http' | 'https' = 'http'): string {
  return address.includes(':') ? `${scheme}://[${address}]:${port}` : `${scheme}://${address}:${port}`;
}

/** An endpoint outside the mesh (an IP literal, localhost, or a host that is not a mesh service): no labels, no identity. */
export function passthroughEndpoint(address: string, port: number, scheme: 'http' | 'https' = 'http'): Endpoint {
  return {
    origin: originOf(address, port, scheme),
    address,
    port,
    protocol: scheme,
    servicePort: port,
    instanceId: '',
    workloadName: '',
    serviceAccount: '',
    labels: {},
    outstanding: 0,
  };
}
