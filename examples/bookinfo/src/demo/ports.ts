// Which ports the demo listens on: the well-known ones (weftd's 15010 and 15000, productpage's 9080)
// when they are free, so `npx weftctl` and a browser reach the demo with no setup, else any free port;
// and the `export` lines that point weftctl (with weftd's admin credential) and other workloads at the
// weftd actually running.
import { createServer } from 'node:net';
import { DEFAULT_ADMIN_PORT, DEFAULT_GRPC_PORT } from '@weft/api';

export { DEFAULT_ADMIN_PORT, DEFAULT_GRPC_PORT };
export const DEFAULT_PRODUCTPAGE_PORT = 9080;

/** Whether nothing listens on host:port now (the port can still be taken before the demo binds it). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

export interface PortChoice {
  /** The port to listen on; 0 lets the OS pick a free one. */
  port: number;
  /** The wanted port was in use. */
  taken: boolean;
}

/** `wanted` if it is free, else 0 (any); 0 stays 0. */
export async function portOrAny(wanted: number, host = '127.0.0.1'): Promise<PortChoice> {
  if (wanted === 0) return { port: 0, taken: false };
  return (await isPortFree(wanted, host)) ? { port: wanted, taken: false } : { port: 0, taken: true };
}

/**
 * The shell lines that make `weftctl` (WEFT_SERVER, WEFT_CREDENTIALS) and workloads (WEFT_CONTROL_PLANE)
 * in another terminal use this weftd; a line for a default address says that it is not needed. The
 * credential is in the demo's own data dir, never the default one, so its line is always needed.
 */
export function controlPlaneExports(grpcAddress: string, adminUrl: string, credentialsFile: string): string[] {
  const defaultNote = (isDefault: boolean) => (isDefault ? '   # the default: no export needed' : '');
  return [
    `export WEFT_SERVER=${adminUrl}${defaultNote(adminUrl === `https://127.0.0.1:${DEFAULT_ADMIN_PORT}`)}`,
    `export WEFT_CREDENTIALS=${credentialsFile}`,
    `export WEFT_CONTROL_PLANE=${grpcAddress}${defaultNote(grpcAddress === `127.0.0.1:${DEFAULT_GRPC_PORT}`)}`,
  ];
}
