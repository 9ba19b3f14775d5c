// The demo's command line: how many requests per phase, whether to exit after them, and the ports.
import { parseArgs } from 'node:util';
import { DEFAULT_ADMIN_PORT, DEFAULT_GRPC_PORT, DEFAULT_PRODUCTPAGE_PORT } from './ports.js';

export const DEFAULT_REQUESTS = 100;

export interface DemoPorts {
  /** weftd's session (gRPC) port; like the others, used if free, else any free port. 0 = any. */
  weftd: number;
  weftdAdmin: number;
  productpage: number;
}

export interface DemoOptions {
  requests: number;
  /** --requests given: run the phases once and exit (tests and CI); otherwise keep running. */
  once: boolean;
  ports: DemoPorts;
}

export const USAGE = `usage: npm run demo [-- --requests N] [--weftd-port P] [--weftd-admin-port P] [--productpage-port P] [--any-ports]
  --requests N            send N requests per phase, print the tables and exit (non-zero if a phase looks wrong);
                          without it: ${DEFAULT_REQUESTS} requests per phase, then keep running until Ctrl-C,
                          restarting any process that dies (try: kill <pid>)
  --weftd-port P          weftd's session port (default ${DEFAULT_GRPC_PORT}, where workloads and the SDK look first)
  --weftd-admin-port P    weftd's admin API port (default ${DEFAULT_ADMIN_PORT}, where weftctl looks first)
  --productpage-port P    productpage's port (default ${DEFAULT_PRODUCTPAGE_PORT})
                          each port is used if free, else any free port (the demo prints which); 0 = any
  --any-ports             any free port for all three (for tests, or several demos side by side)`;

export class DemoUsageError extends Error {}

function port(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new DemoUsageError(`--${flag} must be an integer 0..65535, got "${text}"`);
  return Number(text);
}

/** The options, or undefined for --help. */
export function parseDemoArgs(argv: string[]): DemoOptions | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        requests: { type: 'string' },
        'weftd-port': { type: 'string' },
        'weftd-admin-port': { type: 'string' },
        'productpage-port': { type: 'string' },
        'any-ports': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new DemoUsageError((err as Error).message);
  }
  const { values } = parsed;
  if (values.help) return undefined;
  const any = values['any-ports'] === true;
  const ports: DemoPorts = {
    weftd: port('weftd-port', values['weftd-port'], any ? 0 : DEFAULT_GRPC_PORT),
    weftdAdmin: port('weftd-admin-port', values['weftd-admin-port'], any ? 0 : DEFAULT_ADMIN_PORT),
    productpage: port('productpage-port', values['productpage-port'], any ? 0 : DEFAULT_PRODUCTPAGE_PORT),
  };
  if (values.requests === undefined) return { requests: DEFAULT_REQUESTS, once: false, ports };
  const n = Number(values.requests);
  if (!/^\d+$/.test(values.requests) || n < 1) throw new DemoUsageError(`--requests must be a positive integer, got "${values.requests}"`);
  return { requests: n, once: true, ports };
}
