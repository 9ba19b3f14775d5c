import { lookupKind, type KindInfo } from '@weft/api';
import { AdminRequestError } from '../admin-client.js';
import { NAMESPACE_FLAG, type Command } from '../command.js';
import { UsageError } from '../flags.js';
import { formatAge, formatTable } from '../table.js';
import { toSafeJson, toSafeYaml } from '../terminal-text.js';

interface IstioObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; creationTimestamp?: string };
  spec: Record<string, unknown>;
}

const OUTPUTS = ['table', 'yaml', 'json'] as const;

export const getCommand: Command = {
  name: 'get',
  summary: 'show resources as a table, YAML or JSON',
  usage: 'weftctl get <kind> [name] [-n NS] [-o table|yaml|json]   (kind: virtualservices|vs, destinationrules|dr; all namespaces unless -n)',
  flags: [NAMESPACE_FLAG, { name: 'output', short: 'o', value: 'FORMAT', description: 'table, yaml or json', default: 'table' }],
  async run(ctx, { values, positionals }) {
    const [kindName, name, extra] = positionals;
    if (!kindName) throw new UsageError('get needs a kind (e.g. virtualservices, vs, destinationrules, dr)');
    if (extra !== undefined) throw new UsageError(`get takes a kind and at most one name (unexpected ${JSON.stringify(extra)})`);
    const kind = lookupKind(kindName);
    if (!kind) throw new UsageError(`unknown kind ${JSON.stringify(kindName)}; use virtualservices (vs) or destinationrules (dr)`);
    const output = values.get('output')?.[0] ?? 'table';
    if (!(OUTPUTS as readonly string[]).includes(output)) throw new UsageError(`--output ${JSON.stringify(output)} is not one of ${OUTPUTS.join(', ')}`);
    const namespace = values.get('namespace')?.[0];
    let items: IstioObject[];
    if (name) {
      const ns = namespace ?? 'default';
      items = [await ctx.client.request<IstioObject>('GET', `v1/resources/${kind.plural}/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`)];
    } else {
      const query = namespace ? `?namespace=${encodeURIComponent(namespace)}` : '';
      items = (await ctx.client.request<{ items: IstioObject[] }>('GET', `v1/resources/${kind.plural}${query}`)).items;
      if (!Array.isArray(items)) throw new AdminRequestError('weftd answered the list without an items list', undefined);
    }
    if (output === 'json') {
      ctx.out(toSafeJson(name ? items[0] : { apiVersion: 'v1', kind: 'List', items }));
    } else if (output === 'yaml') {
      ctx.out(items.map((i) => toSafeYaml(i).trimEnd()).join('\n---\n'));
    } else if (items.length === 0) {
      ctx.out(`No resources found${namespace ? ` in ${namespace} namespace` : ''}.`);
    } else {
      ctx.out(table(kind, items));
    }
  },
};

/** The table of kubectl get; every cell is read defensively, as weftd's answer is not trusted to be well formed. */
function table(kind: KindInfo, items: IstioObject[]): string {
  const now = Date.now();
  const age = (i: IstioObject) => {
    const created = Date.parse(String(i.metadata?.creationTimestamp));
    return Number.isNaN(created) ? '<unknown>' : formatAge(now - created);
  };
  const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '');
  const head = (i: IstioObject) => [text(i.metadata?.namespace), text(i.metadata?.name)];
  if (kind.kind === 'VirtualService') {
    return formatTable(['NAMESPACE', 'NAME', 'HOSTS', 'AGE'], items.map((i) => [...head(i), JSON.stringify(i.spec?.hosts ?? []), age(i)]));
  }
  return formatTable(['NAMESPACE', 'NAME', 'HOST', 'AGE'], items.map((i) => [...head(i), text(i.spec?.host ?? ''), age(i)]));
}
