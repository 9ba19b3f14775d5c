// The resource arguments of `get` and `delete`, read as kubectl reads them: `TYPE[,TYPE...] [NAME...]`
// (`vs,dr reviews ratings`: each name of each kind) or `TYPE/NAME...` (`vs/reviews dr/reviews`).
import type { KindInfo } from '@weft/api';
import { kindArg, KIND_NAMES } from './command.js';
import { UsageError } from './flags.js';

/** One kind and the names asked for (none: every resource of the kind). */
export interface KindSelection {
  kind: KindInfo;
  names: string[];
}

/** Kinds in the order first named, each once; names in order, each once. */
export function parseResourceArgs(args: readonly string[], verb: string): { selections: KindSelection[]; named: boolean } {
  const [first, ...rest] = args;
  if (first === undefined) throw new UsageError(`${verb} needs a kind (${KIND_NAMES}), e.g. weftctl ${verb} vs reviews`);
  const selections: KindSelection[] = [];
  const add = (kind: KindInfo, name?: string) => {
    let s = selections.find((x) => x.kind === kind);
    if (!s) selections.push((s = { kind, names: [] }));
    if (name !== undefined && !s.names.includes(name)) s.names.push(name);
  };
  if (first.includes('/')) {
    for (const arg of args) {
      const slash = arg.indexOf('/');
      if (slash < 0) throw new UsageError(`${JSON.stringify(arg)} has no kind: when one argument is TYPE/NAME, all must be (e.g. vs/reviews dr/reviews)`);
      const name = arg.slice(slash + 1);
      if (!name) throw new UsageError(`${JSON.stringify(arg)} names no resource after the /`);
      add(kindArg(arg.slice(0, slash)), name);
    }
    return { selections, named: true };
  }
  for (const kindName of first.split(',')) {
    if (!kindName) throw new UsageError(`${JSON.stringify(first)} has an empty kind between commas`);
    add(kindArg(kindName));
  }
  for (const name of rest) {
    if (name.includes('/')) throw new UsageError(`${JSON.stringify(name)}: a TYPE/NAME argument cannot follow a kind; write either ${verb} TYPE NAME... or ${verb} TYPE/NAME...`);
    for (const s of selections) if (!s.names.includes(name)) s.names.push(name);
  }
  return { selections, named: rest.length > 0 };
}
