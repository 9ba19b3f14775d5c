import { expect } from 'chai';
import { UsageError } from './flags.js';
import { parseResourceArgs } from './resource-args.js';

const shape = (args: string[]) => {
  const { selections, named } = parseResourceArgs(args, 'get');
  return { named, selections: selections.map((s) => [s.kind.kind, s.names]) };
};

describe('parseResourceArgs (kubectl TYPE[,TYPE] NAME... and TYPE/NAME...)', () => {
  it('reads kinds, names, and kind/name pairs, each once in the order given', () => {
    expect(shape(['vs'])).to.deep.equal({ named: false, selections: [['VirtualService', []]] });
    expect(shape(['vs,dr,virtualservices'])).to.deep.equal({ named: false, selections: [['VirtualService', []], ['DestinationRule', []]] });
    expect(shape(['dr', 'b', 'a', 'b'])).to.deep.equal({ named: true, selections: [['DestinationRule', ['b', 'a']]] });
    expect(shape(['vs,dr', 'reviews'])).to.deep.equal({ named: true, selections: [['VirtualService', ['reviews']], ['DestinationRule', ['reviews']]] });
    expect(shape(['dr/a', 'vs/r', 'destinationrule/b'])).to.deep.equal({ named: true, selections: [['DestinationRule', ['a', 'b']], ['VirtualService', ['r']]] });
  });

  it('refuses what kubectl refuses, naming the argument', () => {
    expect(() => parseResourceArgs([], 'get')).to.throw(UsageError, 'get needs a kind');
    expect(() => parseResourceArgs(['pods'], 'get')).to.throw(UsageError, 'unknown kind "pods"; use virtualservices (vs)');
    expect(() => parseResourceArgs(['vs,'], 'get')).to.throw(UsageError, 'empty kind');
    expect(() => parseResourceArgs(['vs/a', 'b'], 'get')).to.throw(UsageError, '"b" has no kind');
    expect(() => parseResourceArgs(['vs', 'dr/b'], 'delete')).to.throw(UsageError, 'delete TYPE NAME... or delete TYPE/NAME...');
    expect(() => parseResourceArgs(['vs/'], 'get')).to.throw(UsageError, 'names no resource');
  });
});
