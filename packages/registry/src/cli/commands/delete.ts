import { lookupKind } from '@weft/api';
import { FILE_FLAG, NAMESPACE_FLAG, resourceRef, type Command } from '../command.js';
import { UsageError } from '../flags.js';
import { readDocumentsLoosely, readManifestSources } from '../manifest-files.js';

interface DeleteResponse {
  revision: number;
  deleted: { kind: string; namespace: string; name: string }[];
}

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'delete resources by kind and name, or those listed in manifests (atomically)',
  usage: 'weftctl delete <kind> <name> [-n NS]  |  weftctl delete -f FILE|DIR|- [-n NS]',
  flags: [FILE_FLAG, NAMESPACE_FLAG],
  async run(ctx, { values, positionals }) {
    const namespace = values.get('namespace')?.[0];
    const files = values.get('filename');
    let res: DeleteResponse;
    if (files) {
      if (positionals.length > 0) throw new UsageError('delete takes either -f or <kind> <name>, not both');
      const docs = readDocumentsLoosely(readManifestSources(files, ctx.readStdin));
      if (docs.length === 0) throw new UsageError(`no resources found in ${files.join(', ')}`);
      const query = namespace ? `?namespace=${encodeURIComponent(namespace)}` : '';
      res = await ctx.client.request<DeleteResponse>('POST', `v1/delete${query}`, { resources: docs });
    } else {
      const [kindName, name, extra] = positionals;
      if (!kindName || !name || extra !== undefined) throw new UsageError('delete needs <kind> <name> (or -f FILE)');
      const kind = lookupKind(kindName);
      if (!kind) throw new UsageError(`unknown kind ${JSON.stringify(kindName)}; use virtualservices (vs) or destinationrules (dr)`);
      const ns = namespace ?? 'default';
      res = await ctx.client.request<DeleteResponse>('DELETE', `v1/resources/${kind.plural}/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`);
    }
    for (const d of res.deleted) {
      const kind = lookupKind(d.kind);
      ctx.out(`${kind ? resourceRef(kind, d.name) : `${d.kind}/${d.name}`} deleted`);
    }
  },
};
