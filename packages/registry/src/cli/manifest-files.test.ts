import { expect } from 'chai';
import { decodeManifest, ManifestReadError } from './manifest-files.js';

describe('decodeManifest', () => {
  it('reads UTF-8 text, without a byte-order mark', () => {
    expect(decodeManifest('a.yaml', Buffer.from('\ufeffkind: x\n'))).to.deep.equal({ file: 'a.yaml', text: 'kind: x\n', bytes: 11 });
  });

  it('refuses binary, UTF-16 and non-UTF-8 files, saying which and what to do', () => {
    const refused = (bytes: Buffer) => {
      try {
        decodeManifest('f', bytes);
      } catch (e) {
        expect(e).to.be.instanceOf(ManifestReadError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00]))).to.equal('f is not YAML or JSON text: it holds NUL bytes (the first at byte 4), as a binary file does; give -f a manifest');
    expect(refused(Buffer.from('\ufeffkind: x', 'utf16le'))).to.contain('it is UTF-16; save it as UTF-8');
    expect(refused(Buffer.concat([Buffer.from('a: 1\nb: caf'), Buffer.from([0xe9]), Buffer.from('\n')]))).to.equal('f is not YAML or JSON text: it is not valid UTF-8 (line 2); save it as UTF-8');
  });
});
