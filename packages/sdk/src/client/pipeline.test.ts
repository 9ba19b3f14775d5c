import { expect } from 'chai';
import { compose, type Handler, type Layer, type OutboundRequest, type OutboundResponse } from './pipeline.js';

describe('compose', () => {
  it('runs layers in order around the terminal and unwinds in reverse', async () => {
    const trace: string[] = [];
    const layer = (name: string): Layer => (next) => async (req) => {
      trace.push(`${name}>`);
      const res = await next(req);
      trace.push(`<${name}`);
      return res;
    };
    const terminal: Handler = async () => {
      trace.push('terminal');
      return { statusCode: 200 } as OutboundResponse;
    };
    const handler = compose([layer('a'), layer('b'), layer('c')], terminal);
    const res = await handler({} as OutboundRequest);
    expect(res.statusCode).to.equal(200);
    expect(trace).to.deep.equal(['a>', 'b>', 'c>', 'terminal', '<c', '<b', '<a']);
  });

  it('lets a layer answer without calling next, and with no layers is the terminal', async () => {
    const short: Layer = () => async () => ({ statusCode: 418 }) as OutboundResponse;
    const terminal: Handler = async () => ({ statusCode: 200 }) as OutboundResponse;
    expect((await compose([short], terminal)({} as OutboundRequest)).statusCode).to.equal(418);
    expect(compose([], terminal)).to.equal(terminal);
  });
});
