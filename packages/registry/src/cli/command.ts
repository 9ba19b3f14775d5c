// The shape of a weftctl command, so the main can dispatch, parse flags and print help uniformly.
import type { AdminClient } from './admin-client.js';
import type { FlagSpec, ParsedFlags } from './flags.js';

export interface CommandContext {
  client: AdminClient;
  out: (text: string) => void;
  readStdin: () => string;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpec[];
  run(ctx: CommandContext, parsed: ParsedFlags): Promise<void>;
}

export const NAMESPACE_FLAG: FlagSpec = { name: 'namespace', short: 'n', value: 'NS', description: 'namespace of the resources' };
export const FILE_FLAG: FlagSpec = { name: 'filename', short: 'f', value: 'FILE|DIR|-', repeatable: true, description: 'manifest file, directory of *.yaml/*.yml/*.json, or - for stdin' };

/** `virtualservice.networking.istio.io/reviews`, as kubectl names a resource. */
export function resourceRef(kind: { singular: string; group: string }, name: string): string {
  return `${kind.singular}.${kind.group}/${name}`;
}
