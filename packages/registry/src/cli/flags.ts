// A small command-line flag parser shared by weftd and weftctl: `--name value`, `--name=value`,
// short aliases (`-n value`), boolean flags, `--` to end flags. Every mistake is a UsageError naming
// the flag, which the mains turn into exit code 2 with a usage hint.

export interface FlagSpec {
  name: string;
  short?: string;
  /** Placeholder for the value in help (`DIR`); absent for boolean flags. */
  value?: string;
  repeatable?: boolean;
  description: string;
  /** Shown in help. */
  default?: string;
}

export interface ParsedFlags {
  values: Map<string, string[]>;
  positionals: string[];
}

const USAGE_BRAND = Symbol.for('weft.UsageError');

export class UsageError extends Error {
  readonly [USAGE_BRAND] = true;
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function isUsageError(e: unknown): e is UsageError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[USAGE_BRAND] === true;
}

/**
 * Parses flags anywhere among positionals. `stopAtFirstPositional` leaves everything from the first
 * positional on untouched (for a global-flags-then-command layout).
 */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[], opts: { stopAtFirstPositional?: boolean } = {}): ParsedFlags {
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      if (opts.stopAtFirstPositional) {
        positionals.push(...argv.slice(i));
        break;
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flagText = eq > 0 && arg.startsWith('--') ? arg.slice(0, eq) : arg;
    const spec = specs.find((s) => `--${s.name}` === flagText || (s.short !== undefined && `-${s.short}` === flagText));
    if (!spec) throw new UsageError(`unknown flag ${flagText}`);
    let value: string;
    if (spec.value === undefined) {
      if (flagText !== arg) throw new UsageError(`flag --${spec.name} takes no value`);
      value = 'true';
    } else if (flagText !== arg) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      // A negative number is a (wrong) value for the flag to judge, not the next flag.
      if (next === undefined || (next.startsWith('-') && next !== '-' && !/^-\d/.test(next))) throw new UsageError(`flag --${spec.name} needs a value (${spec.value})`);
      value = next;
      i++;
    }
    const list = values.get(spec.name) ?? [];
    if (list.length > 0 && !spec.repeatable) throw new UsageError(`flag --${spec.name} given more than once`);
    list.push(value);
    values.set(spec.name, list);
  }
  return { values, positionals };
}

/** Help lines for flags: `  -n, --namespace NS   description (default x)`. */
export function formatFlagHelp(specs: readonly FlagSpec[]): string {
  const heads = specs.map((s) => `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.value ? ` ${s.value}` : ''}`);
  const width = Math.max(...heads.map((h) => h.length)) + 2;
  return specs.map((s, i) => `  ${heads[i]!.padEnd(width)}${s.description}${s.default !== undefined ? ` (default ${s.default})` : ''}`).join('\n');
}

/** Parses a port flag: an integer 0..65535 (0 = any free port). */
export function parsePortFlag(name: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new UsageError(`--${name} ${JSON.stringify(text)} is not a port (0..65535; 0 picks a free port)`);
  return n;
}
