import { expect } from 'chai';
import { formatBytes, requestTooLargeError } from './batch-request.js';

describe('batch request size', () => {
  it('formats sizes as bytes, KiB and MiB', () => {
    expect([512, 1536, 4 * 1024 * 1024, 5_285_231].map(formatBytes)).to.deep.equal(['512 bytes', '1.5 KiB', '4 MiB', '5 MiB']);
  });

  it('names each file with its size, the limit, and says to split the file that is over it alone', () => {
    const sources = [
      { file: 'a.yaml', text: '', bytes: 3 * 1024 * 1024 },
      { file: 'b.yaml', text: '', bytes: 5 * 1024 * 1024 },
    ];
    const several = requestTooLargeError('apply', sources, [3 * 1024 * 1024, 2 * 1024 * 1024], 5 * 1024 * 1024, 4 * 1024 * 1024).message;
    expect(several).to.contain('5 MiB (5242880 bytes)').and.contain('at most 4 MiB (4194304 bytes, MAX_ADMIN_BODY_BYTES)');
    expect(several).to.contain('  a.yaml: 3 MiB (3 MiB of the request)\n  b.yaml: 5 MiB (2 MiB of the request)');
    expect(several).to.contain('apply the files in several calls');
    const alone = requestTooLargeError('delete', sources, [1024, 4.5 * 1024 * 1024], 5 * 1024 * 1024, 4 * 1024 * 1024).message;
    expect(alone).to.contain('split b.yaml into several files (it is over the limit by itself) and delete them in several calls');
  });
});
