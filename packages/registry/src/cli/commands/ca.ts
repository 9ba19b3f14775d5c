// `weftctl ca status|rotate`: the mesh CA's roots, and a root rotation (docs/security.md, "Root
// rotation"). `rotate` returns once the new root signs; the old root leaves the bundle by itself when
// the last certificate it signed has expired (`ca status` shows when).
import type { Command } from '../command.js';
import { UsageError } from '../flags.js';
import { formatTable } from '../table.js';

interface CaView {
  trustDomain: string;
  source: string;
  bundleVersion: number;
  roots: Array<{ fingerprint: string; subject: string; notAfter: string; addedAt: string; issuedUntil: string | null; active: boolean; pending: boolean }>;
}

export const caCommand: Command = {
  name: 'ca',
  summary: "show the mesh CA's roots, or rotate the root (workloads move to the new root with no failed request)",
  usage: 'weftctl ca status\n       weftctl ca rotate',
  flags: [],
  async run(ctx, { positionals }) {
    const [action, ...args] = positionals;
    if (args.length > 0) throw new UsageError(`ca ${action} takes no arguments (got ${JSON.stringify(args[0])})`);
    let view: CaView;
    switch (action) {
      case 'status':
        view = await ctx.client.request<CaView>('GET', 'v1/ca');
        break;
      case 'rotate':
        view = await ctx.client.request<CaView>('POST', 'v1/ca/rotate');
        ctx.err('rotated: the new root signs, workloads are renewing; the old root stays trusted until the last certificate it signed expires');
        break;
      default:
        throw new UsageError(`ca needs one of status, rotate${action ? ` (got ${JSON.stringify(action)})` : ''}`);
    }
    ctx.out(`trust domain ${view.trustDomain}, ${view.source}, trust bundle version ${view.bundleVersion}`);
    const state = (r: CaView['roots'][number]) => (r.active ? 'signing' : r.pending ? 'trusted, signing soon' : `trusted until ${r.issuedUntil ?? 'dropped soon'}`);
    ctx.out(formatTable(['ROOT', 'STATE', 'ADDED', 'EXPIRES'], view.roots.map((r) => [r.fingerprint.slice(0, 16), state(r), r.addedAt, r.notAfter])));
  },
};
