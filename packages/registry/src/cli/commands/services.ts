import { AdminRequestError } from '../admin-client.js';
import type { Command } from '../command.js';
import { UsageError } from '../flags.js';
import { formatAge, formatLabels, formatTable } from '../table.js';

interface ServicesResponse {
  services: {
    service: string;
    namespace: string;
    instances: { instanceId: string; address: string; port: number; labels: Record<string, string>; connected: boolean; registeredAtMs: number }[];
  }[];
}

export const servicesCommand: Command = {
  name: 'services',
  summary: 'list registered services and their instances',
  usage: 'weftctl services',
  flags: [],
  async run(ctx, { positionals }) {
    if (positionals.length > 0) throw new UsageError(`services takes no arguments (got ${JSON.stringify(positionals[0])})`);
    const { services } = await ctx.client.request<ServicesResponse>('GET', 'v1/services');
    if (!Array.isArray(services)) throw new AdminRequestError('weftd answered without a services list', undefined);
    const now = Date.now();
    const rows = services.flatMap((s) =>
      s.instances.map((i) => [
        s.service,
        s.namespace,
        i.instanceId,
        `${i.address}:${i.port}${i.connected ? '' : ' (disconnected)'}`,
        formatLabels(i.labels),
        formatAge(now - i.registeredAtMs),
      ]),
    );
    ctx.out(rows.length ? formatTable(['SERVICE', 'NAMESPACE', 'INSTANCE', 'ADDRESS', 'LABELS', 'AGE'], rows) : 'No services registered.');
  },
};
