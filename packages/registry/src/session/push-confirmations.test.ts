import { expect } from 'chai';
import { PushConfirmations, type ConfirmationReply } from './push-confirmations.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('PushConfirmations', () => {
  let replies: [string, ConfirmationReply][];
  let c: PushConfirmations<string>;

  beforeEach(() => {
    replies = [];
    c = new PushConfirmations<string>((requester, answer) => replies.push([requester, answer]));
  });

  afterEach(() => c.close());

  it('answers once every session the push went to has answered that version or a later one', () => {
    c.expect('w', 'r1', 'echo.ns.svc.cluster.local', 5000);
    c.pushed(['echo.ns.svc.cluster.local'], 7, () => ['a', 'b', 'w']);
    c.answered('a', 6); // an older update: not this one
    c.answered('a', 7);
    expect(replies).to.deep.equal([]);
    c.answered('b', 8);
    expect(replies).to.deep.equal([['w', { requestId: 'r1', endpointsVersion: '7', subscribers: 2, acked: 2 }]]);
    expect(c.size).to.equal(0);
  });

  it('does not wait for a session that left, nor for pushes of other hosts', () => {
    c.expect('w', 'r1', 'echo', 5000);
    c.pushed(['other'], 3, () => ['x']);
    c.pushed(['echo'], 4, () => ['a', 'b']);
    c.answered('a', 4);
    c.gone('b'); // a caller that left sends no more requests: it counts as done
    expect(replies).to.deep.equal([['w', { requestId: 'r1', endpointsVersion: '4', subscribers: 2, acked: 2 }]]);
  });

  it('answers with nobody to wait for when the registry pushed nothing for the host', async () => {
    c.expect('w', 'r1', 'echo', 5000);
    await tick();
    expect(replies).to.deep.equal([['w', { requestId: 'r1', endpointsVersion: '', subscribers: 0, acked: 0 }]]);
  });

  it('answers at the deadline with how many had answered, and drops the requests of a session that left', async () => {
    c.expect('w', 'r1', 'echo', 30);
    c.expect('gone', 'r2', 'echo', 30);
    c.pushed(['echo'], 2, () => ['a', 'b']);
    c.answered('a', 2);
    c.gone('gone');
    await new Promise((r) => setTimeout(r, 60));
    expect(replies).to.deep.equal([['w', { requestId: 'r1', endpointsVersion: '2', subscribers: 2, acked: 1 }]]);
  });
});
