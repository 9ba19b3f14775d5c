// The shape of a weftctl command, so the main can dispatch, parse flags and print help uniformly.
import { isDnsLabel, KINDS, lookupKind, type KindInfo } from '@weft/api';
import type { AdminClient } from './admin-client.js';
import { UsageError, type FlagSpec, type ParsedFlags } from './flags.js';
import { escapeText } from './terminal-text.js';

export interface CommandContext {
  client: AdminClient;
  /** A line (or lines) of the command's output, on stdout. */
  out: (text: string) => void;
  /** A line of diagnostics on stderr that does not end the command (kubectl's per-resource errors). */
  err: (text: string) => void;
  readStdin: () => Buffer;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpec[];
  /** Resolves with the exit code (0 when nothing is returned); failures that end it throw. */
  run(ctx: CommandContext, parsed: ParsedFlags): Promise<number | void>;
}

/** Where a command looks without -n (or -A), as kubectl does with no namespace in its context. */
export const DEFAULT_NAMESPACE = 'default';

export const NAMESPACE_FLAG: FlagSpec = { name: 'namespace', short: 'n', value: 'NS', description: 'namespace of the resources', default: DEFAULT_NAMESPACE };
export const FILE_FLAG: FlagSpec = { name: 'filename', short: 'f', value: 'FILE|DIR|-', repeatable: true, description: 'manifest file, directory of *.yaml/*.yml/*.json, or - for stdin' };
export const KIND_NAMES = KINDS.map((k) => `${k.plural} (${k.shortNames.join(', ')})`).join(', ');

/** The -n value, checked here so that a typo is a usage error naming -n, not a 400 about a query parameter. */
export function namespaceFlag(values: ParsedFlags['values']): string | undefined {
  const ns = values.get('namespace')?.[0];
  if (ns !== undefined && !isDnsLabel(ns)) {
    throw new UsageError(`-n ${JSON.stringify(ns)} is not a valid namespace (at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit)`);
  }
  return ns;
}

/** A kind as the user typed it, or a usage error listing the kinds there are. */
export function kindArg(name: string): KindInfo {
  const kind = lookupKind(name);
  if (!kind) throw new UsageError(`unknown kind ${JSON.stringify(name)}; use ${KIND_NAMES}`);
  return kind;
}

/** `virtualservice.networking.istio.io/reviews`, as kubectl names a resource. */
export function resourceRef(kind: { singular: string; group: string }, name: string): string {
  return `${kind.singular}.${kind.group}/${name}`;
}

/** kubectl's line for a resource that is not there: `Error from server (NotFound): virtualservices.networking.istio.io "x" not found`. */
export function notFoundLine(kind: { plural: string; group: string }, name: string, namespace: string): string {
  return `Error from server (NotFound): ${[kind.plural, kind.group].filter(Boolean).join('.')} "${escapeText(name)}" not found in namespace ${escapeText(namespace)}`;
}
