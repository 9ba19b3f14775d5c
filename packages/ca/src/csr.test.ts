import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { expect } from 'chai';
import { derToPem, encodeName } from './certificate-builder.js';
import { bitString, contextTag, fromDer, oid, sequence, smallInteger, toDer } from './der.js';
import { createCsr, verifyCsr } from './csr.js';
import { generatePrivateKey } from './key-algorithm.js';
import { spkiOf } from './keys.js';
import { expectCode } from './test-support.js';

describe('CSRs', () => {
  const key = generatePrivateKey();

  it('makes a CSR whose self-signature verifies, and reads its key back', () => {
    const csr = createCsr(key, { commonName: 'workload' });
    expect(csr).to.match(/^-----BEGIN CERTIFICATE REQUEST-----\n/);
    const verified = verifyCsr(csr);
    expect(verified.subjectPublicKeyInfo.equals(spkiOf(key))).to.equal(true);
    expect(verified.publicKey.asymmetricKeyType).to.equal('ec');
  });

  it('accepts RSA and P-384 keys', () => {
    expect(verifyCsr(createCsr(generatePrivateKey('rsa-2048'))).publicKey.asymmetricKeyType).to.equal('rsa');
    expect(verifyCsr(createCsr(generatePrivateKey('ec-p384'))).publicKey.asymmetricKeyDetails?.namedCurve).to.equal('secp384r1');
  });

  it('refuses a CSR whose signature does not match its key (altered after signing)', () => {
    const der = Buffer.from(createCsr(key, { commonName: 'aaaa' }).replace(/-----[^-]+-----|\n/g, ''), 'base64');
    const at = der.indexOf(Buffer.from('aaaa'));
    der.write('bbbb', at); // same length: the structure stays valid, the signature no longer matches
    const altered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(expectCode(() => verifyCsr(altered, 'workload 7'), 'INVALID_CSR').message).to.match(/^workload 7: its signature does not verify/);
  });

  it('refuses garbled PEM, a certificate instead of a CSR, two CSRs and oversized input, saying which', () => {
    expect(expectCode(() => verifyCsr('hello'), 'INVALID_CSR').message).to.match(/no PEM block/);
    expect(expectCode(() => verifyCsr('-----BEGIN CERTIFICATE REQUEST-----\n!!!\n-----END CERTIFICATE REQUEST-----\n'), 'INVALID_CSR').message).to.match(/not valid base64/);
    expect(expectCode(() => verifyCsr('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'), 'INVALID_CSR').message).to.match(/not a valid PKCS#10/);
    expect(expectCode(() => verifyCsr('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), 'INVALID_CSR').message).to.match(/"CERTIFICATE" where "CERTIFICATE REQUEST"/);
    const csr = createCsr(key);
    expect(expectCode(() => verifyCsr(csr + csr), 'INVALID_CSR').message).to.match(/found 2/);
    expect(expectCode(() => verifyCsr(csr + ' '.repeat(20000)), 'INVALID_CSR').message).to.match(/more than a CSR needs/);
  });

  it('refuses weak keys: RSA-1024 and a curve outside P-256/P-384', () => {
    // createCsr signs with whatever key it is given; the CA's check is on the reading side.
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(expectCode(() => verifyCsr(createCsrUnchecked(rsa1024)), 'INVALID_CSR').message).to.match(/RSA-1024/);
    const k256 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey;
    expect(expectCode(() => verifyCsr(createCsrUnchecked(k256)), 'INVALID_CSR').message).to.match(/curve "secp256k1"/);
  });
});

/** A CSR signed with ecdsa-with-SHA256 or sha256WithRSA whatever the key, bypassing createCsr's own key checks. */
function createCsrUnchecked(key: KeyObject): string {
  const info = sequence([smallInteger(0), fromDer(encodeName([])), fromDer(spkiOf(key)), contextTag(0, true, [])]);
  const algOid = key.asymmetricKeyType === 'rsa' ? '1.2.840.113549.1.1.11' : '1.2.840.10045.4.3.2';
  const sig = sign('sha256', toDer(info), key);
  return derToPem(toDer(sequence([info, sequence([oid(algOid)]), bitString(sig)])), 'CERTIFICATE REQUEST');
}
