// Splits an EndpointsUpdate into parts that each stay near ENDPOINTS_PART_BYTES, so that no message
// weftd writes exceeds what a client accepts (one service with 100k endpoints once made a push larger
// than gRPC's default 4 MiB, and every caller of it lost its session every second).
// Hosts are packed whole into parts for every client; a client that reassembles parts (Hello.
// accepts_split_endpoints) also gets one large host's instances spread over several parts.
import type { HostEndpointsMsg } from '@weft/api';

/**
 * Groups `hosts` into parts of at most about `partBytes` each, as measured by `sizeOf` (the
 * serialized size of an update holding only that host). With `splitHosts`, a host larger than a part
 * is cut into slices of its instances, consecutive and in order, each a HostEndpoints of the same host.
 * A single host that is too large stays whole without `splitHosts`: there is no other way to send it.
 */
export function endpointParts(hosts: readonly HostEndpointsMsg[], partBytes: number, splitHosts: boolean, sizeOf: (h: HostEndpointsMsg) => number): HostEndpointsMsg[][] {
  const parts: HostEndpointsMsg[][] = [];
  let current: HostEndpointsMsg[] = [];
  let currentBytes = 0;
  const flush = () => {
    if (current.length > 0) parts.push(current);
    current = [];
    currentBytes = 0;
  };
  for (const host of hosts) {
    const bytes = sizeOf(host);
    if (bytes > partBytes && splitHosts && host.instances.length > 1) {
      flush();
      // Instances of one host are alike in size, so an even cut by count keeps each slice near the part size.
      const slices = Math.min(host.instances.length, Math.ceil(bytes / partBytes));
      const per = Math.ceil(host.instances.length / slices);
      for (let i = 0; i < host.instances.length; i += per) parts.push([{ host: host.host, instances: host.instances.slice(i, i + per) }]);
      continue;
    }
    if (currentBytes + bytes > partBytes) flush();
    current.push(host);
    currentBytes += bytes;
  }
  flush();
  return parts;
}
