import { AdminRequestError } from '../admin-client.js';
import type { Command } from '../command.js';
import { UsageError } from '../flags.js';
import { formatAge, formatLabels, formatTable } from '../table.js';
import { toSafeJson, toSafeYaml } from '../terminal-text.js';

interface Instance {
  instanceId: string;
  workloadName?: string;
  address: string;
  port: number;
  protocol?: string;
  labels: Record<string, string>;
  serviceAccount?: string;
  connected: boolean;
  registeredAtMs: number;
}

interface ServicesResponse {
  services: { service: string; namespace: string; host?: string; instances: Instance[] }[];
}

const OUTPUTS = ['table', 'wide', 'yaml', 'json'] as const;

export const servicesCommand: Command = {
  name: 'services',
  summary: 'list registered services and their instances',
  usage: 'weftctl services [-o table|wide|yaml|json]',
  flags: [{ name: 'output', short: 'o', value: 'FORMAT', description: `${OUTPUTS.join(', ')} (yaml and json: GET /v1/services as weftd answers it)`, default: 'table' }],
  async run(ctx, { values, positionals }) {
    if (positionals.length > 0) throw new UsageError(`services takes no arguments (got ${JSON.stringify(positionals[0])})`);
    const output = values.get('output')?.[0] ?? 'table';
    if (!(OUTPUTS as readonly string[]).includes(output)) throw new UsageError(`-o ${JSON.stringify(output)} is not one of ${OUTPUTS.join(', ')}`);
    const answer = await ctx.client.request<ServicesResponse>('GET', 'v1/services');
    const { services } = answer;
    if (!Array.isArray(services)) throw new AdminRequestError('weftd answered without a services list', undefined);
    if (output === 'json' || output === 'yaml') {
      ctx.out(output === 'json' ? toSafeJson(answer) : toSafeYaml(answer).trimEnd());
      return;
    }
    const wide = output === 'wide';
    const now = Date.now();
    const text = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
    const rows = services.flatMap((s) =>
      (Array.isArray(s.instances) ? s.instances : []).map((i) => [
        text(s.service),
        text(s.namespace),
        text(i.instanceId),
        `${text(i.address)}:${text(i.port)}${i.connected ? '' : ' (disconnected)'}`,
        formatLabels(i.labels),
        formatAge(now - i.registeredAtMs),
        ...(wide ? [text(s.host ?? ''), text(i.protocol ?? ''), text(i.workloadName ?? ''), text(i.serviceAccount ?? '')] : []),
      ]),
    );
    const headers = ['SERVICE', 'NAMESPACE', 'INSTANCE', 'ADDRESS', 'LABELS', 'AGE', ...(wide ? ['HOST', 'PROTOCOL', 'WORKLOAD', 'SERVICEACCOUNT'] : [])];
    if (rows.length) ctx.out(formatTable(headers, rows));
    else ctx.err('No services registered.');
  },
};
