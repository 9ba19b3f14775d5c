import type { KindInfo } from '@weft/api';
import { AdminRequestError, isAdminRequestError } from '../admin-client.js';
import { DEFAULT_NAMESPACE, KIND_NAMES, NAMESPACE_FLAG, namespaceFlag, notFoundLine, resourceRef, type Command, type CommandContext } from '../command.js';
import { UsageError } from '../flags.js';
import { parseResourceArgs, type KindSelection } from '../resource-args.js';
import { resourceTable, type IstioObject } from '../resource-table.js';
import { escapeText, toSafeJson, toSafeYaml } from '../terminal-text.js';

const OUTPUTS = ['table', 'wide', 'name', 'yaml', 'json'] as const;

export const ALL_NAMESPACES_FLAG = { name: 'all-namespaces', short: 'A', description: 'every namespace (with a NAMESPACE column)' };

export const getCommand: Command = {
  name: 'get',
  summary: 'show resources as a table, names, YAML or JSON',
  usage: `weftctl get TYPE[,TYPE...] [NAME...] | TYPE/NAME... [-n NS | -A] [-o table|wide|name|yaml|json]

Types: ${KIND_NAMES}.
Without -n, the namespace is ${DEFAULT_NAMESPACE}; -A lists every namespace.
Names that do not exist are reported on stderr (exit 1); the others are shown.`,
  flags: [NAMESPACE_FLAG, ALL_NAMESPACES_FLAG, { name: 'output', short: 'o', value: 'FORMAT', description: OUTPUTS.join(', '), default: 'table' }],
  async run(ctx, { values, positionals }) {
    const { selections, named } = parseResourceArgs(positionals, 'get');
    const output = values.get('output')?.[0] ?? 'table';
    if (!(OUTPUTS as readonly string[]).includes(output)) throw new UsageError(`-o ${JSON.stringify(output)} is not one of ${OUTPUTS.join(', ')}`);
    const allNamespaces = values.has('all-namespaces');
    const ns = namespaceFlag(values);
    if (allNamespaces && ns !== undefined) throw new UsageError('-A lists every namespace and -n one of them: give only one');
    if (allNamespaces && named) throw new UsageError('a resource cannot be fetched by name across all namespaces (-A); give its namespace with -n');
    const namespace = allNamespaces ? undefined : (ns ?? DEFAULT_NAMESPACE);

    const blocks: { kind: KindInfo; items: IstioObject[] }[] = [];
    const missing: string[] = [];
    for (const s of selections) blocks.push({ kind: s.kind, items: await fetchSelection(ctx, s, namespace, missing) });
    const items = blocks.flatMap((b) => b.items);

    if (output === 'json') {
      const single = named && selections.length === 1 && selections[0]!.names.length === 1;
      if (!single || items.length > 0) ctx.out(toSafeJson(single ? items[0] : { apiVersion: 'v1', kind: 'List', items }));
    } else if (output === 'yaml') {
      if (items.length > 0) ctx.out(items.map((i) => toSafeYaml(i).trimEnd()).join('\n---\n'));
    } else if (output === 'name') {
      for (const b of blocks) for (const i of b.items) ctx.out(escapeText(resourceRef(b.kind, String(i.metadata?.name))));
    } else if (items.length > 0) {
      const opts = { namespaces: allNamespaces, wide: output === 'wide', qualifiedNames: selections.length > 1 };
      ctx.out(
        blocks
          .filter((b) => b.items.length > 0)
          .map((b) => resourceTable(b.kind, b.items, opts))
          .join('\n\n'),
      );
    }
    // As kubectl: the note goes to stderr, so that `get -o name | xargs ...` reads nothing.
    if (!named && items.length === 0 && output !== 'json') ctx.err(namespace ? `No resources found in ${namespace} namespace.` : 'No resources found.');
    for (const line of missing) ctx.err(line);
    return missing.length > 0 ? 1 : 0;
  },
};

/** The resources of one kind: every one in the namespace (all namespaces when undefined), or the named ones. */
async function fetchSelection(ctx: CommandContext, s: KindSelection, namespace: string | undefined, missing: string[]): Promise<IstioObject[]> {
  if (s.names.length === 0) {
    const query = namespace ? `?namespace=${encodeURIComponent(namespace)}` : '';
    const { items } = await ctx.client.request<{ items: IstioObject[] }>('GET', `v1/resources/${s.kind.plural}${query}`);
    if (!Array.isArray(items)) throw new AdminRequestError('weftd answered the list without an items list', undefined);
    return items;
  }
  const ns = namespace ?? DEFAULT_NAMESPACE;
  const found: IstioObject[] = [];
  for (const name of s.names) {
    try {
      found.push(await ctx.client.request<IstioObject>('GET', `v1/resources/${s.kind.plural}/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`));
    } catch (e) {
      if (!isAdminRequestError(e) || e.status !== 404) throw e;
      missing.push(notFoundLine(s.kind, name, ns));
    }
  }
  return found;
}
