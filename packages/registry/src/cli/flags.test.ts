import { expect } from 'chai';
import { formatFlagHelp, parseFlags, parsePortFlag, UsageError, type FlagSpec } from './flags.js';

const specs: FlagSpec[] = [
  { name: 'file', short: 'f', value: 'FILE', repeatable: true, description: 'manifest' },
  { name: 'namespace', short: 'n', value: 'NS', description: 'namespace', default: 'default' },
  { name: 'dry-run', description: 'validate only' },
];

describe('parseFlags', () => {
  it('reads long, short, = and boolean forms among positionals', () => {
    const p = parseFlags(['apply', '-f', 'a.yaml', '--file=b.yaml', '--dry-run', '-n', 'bookinfo', 'x', '-f', '-'], specs);
    expect(p.values.get('file')).to.deep.equal(['a.yaml', 'b.yaml', '-']);
    expect(p.values.get('namespace')).to.deep.equal(['bookinfo']);
    expect(p.values.get('dry-run')).to.deep.equal(['true']);
    expect(p.positionals).to.deep.equal(['apply', 'x']);
  });

  it('stops at the first positional when asked', () => {
    const p = parseFlags(['-n', 'a', 'get', '-n', 'b'], specs, { stopAtFirstPositional: true });
    expect(p.values.get('namespace')).to.deep.equal(['a']);
    expect(p.positionals).to.deep.equal(['get', '-n', 'b']);
  });

  it('names the flag in every usage error', () => {
    expect(() => parseFlags(['--bogus'], specs)).to.throw(UsageError, '--bogus');
    expect(() => parseFlags(['-n'], specs)).to.throw(UsageError, '--namespace needs a value');
    expect(() => parseFlags(['-n', 'a', '-n', 'b'], specs)).to.throw(UsageError, '--namespace given more than once');
    expect(() => parseFlags(['--dry-run=yes'], specs)).to.throw(UsageError, '--dry-run takes no value');
    expect(() => parseFlags(['-n', '--dry-run'], specs)).to.throw(UsageError, '--namespace needs a value');
  });

  it('hands a negative number to its flag to judge, instead of taking it for the next flag', () => {
    expect(parseFlags(['-n', '-1'], specs).values.get('namespace')).to.deep.equal(['-1']);
  });

  it('parses ports and formats help with defaults', () => {
    expect(parsePortFlag('port', '0')).to.equal(0);
    expect(parsePortFlag('port', '15010')).to.equal(15010);
    expect(() => parsePortFlag('port', '70000')).to.throw(UsageError, '--port "70000"');
    expect(() => parsePortFlag('port', '-1')).to.throw(UsageError);
    const help = formatFlagHelp(specs);
    expect(help).to.contain('-n, --namespace NS').and.contain('(default default)').and.contain('--dry-run');
  });
});
