import { expect } from 'chai';
import { validationIssues } from '../validation-issues.js';

function issuesOf(spec: unknown, apiVersion = 'networking.istio.io/v1'): string[] {
  return validationIssues({ apiVersion, kind: 'DestinationRule', metadata: { name: 'ext', namespace: 'shop' }, spec });
}
const ruleTls = (tls: unknown) => issuesOf({ host: 'api.example.com', trafficPolicy: { tls } });
const subsetTls = (tls: unknown) => issuesOf({ host: 'api.example.com', subsets: [{ name: 'v1', labels: { version: 'v1' }, trafficPolicy: { tls } }] });

describe('DestinationRule trafficPolicy.tls (ClientTLSSettings)', () => {
  it("accepts Istio's TLS origination settings: SIMPLE and MUTUAL with files, SANs, SNI, insecureSkipVerify, caCrl, in every apiVersion and per subset", () => {
    const mutual = {
      mode: 'MUTUAL',
      clientCertificate: '/etc/certs/client.pem',
      privateKey: '/etc/certs/client-key.pem',
      caCertificates: '/etc/certs/ca.pem',
      caCrl: '/etc/certs/ca.crl',
      subjectAltNames: ['api.example.com', 'spiffe://example.com/api'],
      sni: 'api.example.com',
    };
    for (const v of ['v1', 'v1beta1', 'v1alpha3']) expect(issuesOf({ host: 'api.example.com', trafficPolicy: { tls: mutual } }, `networking.istio.io/${v}`)).to.deep.equal([]);
    expect(ruleTls({ mode: 'SIMPLE' })).to.deep.equal([]);
    expect(ruleTls({ mode: 'SIMPLE', caCertificates: '/etc/certs/ca.pem', sni: 'Edition.CNN.com' })).to.deep.equal([]);
    expect(ruleTls({ mode: 'SIMPLE', insecureSkipVerify: true, sni: 'x.example.com' })).to.deep.equal([]);
    expect(ruleTls({ mode: 'MUTUAL', clientCertificate: 'C:\\certs\\client.pem', privateKey: 'C:/certs/key.pem', insecureSkipVerify: true })).to.deep.equal([]);
    expect(subsetTls({ mode: 'SIMPLE', subjectAltNames: ['v1.example.com'] })).to.deep.equal([]);
    // What an absent setting means, and the two mesh modes, with nothing else.
    for (const tls of [{}, { mode: 'ISTIO_MUTUAL' }, { mode: 'DISABLE' }, { mode: 'ISTIO_MUTUAL', insecureSkipVerify: false, subjectAltNames: [] }]) {
      expect(ruleTls(tls), JSON.stringify(tls)).to.deep.equal([]);
    }
  });

  it('MUTUAL needs the client certificate and key, and SIMPLE sends none: each missing or ignored field named by its path', () => {
    expect(ruleTls({ mode: 'MUTUAL' })).to.deep.equal([
      'spec.trafficPolicy.tls.clientCertificate: is required with mode MUTUAL: the path of the client certificate (PEM) presented to the server',
      'spec.trafficPolicy.tls.privateKey: is required with mode MUTUAL: the path of the private key of the client certificate (PEM, unencrypted) presented to the server',
    ]);
    expect(subsetTls({ mode: 'MUTUAL', clientCertificate: '/c.pem' })).to.deep.equal([
      'spec.subsets[0].trafficPolicy.tls.privateKey: is required with mode MUTUAL: the path of the private key of the client certificate (PEM, unencrypted) presented to the server',
    ]);
    expect(ruleTls({ mode: 'SIMPLE', clientCertificate: '/c.pem', privateKey: '/k.pem' })).to.deep.equal([
      'spec.trafficPolicy.tls.clientCertificate: is only presented with mode MUTUAL (SIMPLE sends no client certificate); set mode: MUTUAL, or remove it',
      'spec.trafficPolicy.tls.privateKey: is only presented with mode MUTUAL (SIMPLE sends no client certificate); set mode: MUTUAL, or remove it',
    ]);
  });

  it('ISTIO_MUTUAL, DISABLE and an absent mode carry none of the origination fields', () => {
    expect(ruleTls({ mode: 'ISTIO_MUTUAL', caCertificates: '/ca.pem' })).to.deep.equal([
      "spec.trafficPolicy.tls.caCertificates: is only used with mode SIMPLE or MUTUAL (TLS with your own files, for destinations outside the mesh), and mode ISTIO_MUTUAL: the mesh's own certificates are used and the server's SPIFFE ID is checked; remove it, or set mode: SIMPLE or MUTUAL",
    ]);
    expect(subsetTls({ mode: 'DISABLE', sni: 'a.example.com', insecureSkipVerify: true })).to.deep.equal([
      'spec.subsets[0].trafficPolicy.tls.sni: is only used with mode SIMPLE or MUTUAL (TLS with your own files, for destinations outside the mesh), and mode DISABLE sends plaintext; remove it, or set mode: SIMPLE or MUTUAL',
      'spec.subsets[0].trafficPolicy.tls.insecureSkipVerify: is only used with mode SIMPLE or MUTUAL (TLS with your own files, for destinations outside the mesh), and mode DISABLE sends plaintext; remove it, or set mode: SIMPLE or MUTUAL',
    ]);
    const absent = ruleTls({ clientCertificate: '/c.pem', privateKey: '/k.pem', subjectAltNames: ['x'], caCrl: '/crl.pem' });
    expect(absent.map((i) => i.split(':')[0])).to.deep.equal([
      'spec.trafficPolicy.tls.clientCertificate',
      'spec.trafficPolicy.tls.privateKey',
      'spec.trafficPolicy.tls.caCrl',
      'spec.trafficPolicy.tls.subjectAltNames',
    ]);
    expect(absent[0]).to.match(/mode is not set, which means ISTIO_MUTUAL/);
  });

  it("refuses insecureSkipVerify with what it would skip (Istio's own check, plus caCrl)", () => {
    expect(ruleTls({ mode: 'SIMPLE', insecureSkipVerify: true, caCertificates: '/ca.pem', subjectAltNames: ['a'], caCrl: '/crl.pem' })).to.deep.equal(
      ['caCertificates', 'caCrl', 'subjectAltNames'].map((f) => `spec.trafficPolicy.tls.${f}: cannot be combined with insecureSkipVerify: true, which skips every check of the server certificate; remove one of the two`),
    );
  });

  it('refuses credentialName (a Kubernetes Secret) pointing at the file fields, and names wrong types and values', () => {
    expect(ruleTls({ mode: 'MUTUAL', credentialName: 'client-credential' })).to.include(
      "spec.trafficPolicy.tls.credentialName: this Istio field is not supported by Weft yet: it names a Kubernetes Secret, which Weft cannot read; give the files instead: clientCertificate, privateKey and caCertificates (paths on the calling workload's machine)",
    );
    expect(ruleTls({ mode: 'SIMPLE', caCertificates: 'certs/ca.pem' })).to.deep.equal([
      `spec.trafficPolicy.tls.caCertificates: "certs/ca.pem" is not an absolute path; give the full path of the PEM file on the calling workload's machine (e.g. /etc/certs/ca.pem)`,
    ]);
    expect(ruleTls({ mode: 'SIMPLE', caCertificates: '' })).to.deep.equal(['spec.trafficPolicy.tls.caCertificates: must not be empty']);
    expect(ruleTls({ mode: 'SIMPLE', insecureSkipVerify: 'true' })).to.deep.equal(['spec.trafficPolicy.tls.insecureSkipVerify: must be true or false, got "true"']);
    expect(ruleTls({ mode: 'SIMPLE', subjectAltNames: 'a.example.com' })).to.deep.equal(['spec.trafficPolicy.tls.subjectAltNames: must be a list, got a string']);
    expect(ruleTls({ mode: 'SIMPLE', subjectAltNames: [''] })).to.deep.equal(['spec.trafficPolicy.tls.subjectAltNames[0]: must not be empty']);
    expect(ruleTls({ mode: 'SIMPLE', sni: '10.0.0.1' })[0]).to.match(/^spec\.trafficPolicy\.tls\.sni: "10\.0\.0\.1" is an IP address/);
    expect(ruleTls({ mode: 'SIMPLE', sni: '*.example.com' })[0]).to.match(/^spec\.trafficPolicy\.tls\.sni: "\*\.example\.com" is not a DNS name/);
    expect(ruleTls({ mode: 'SIMPLE', sni: 'a\u001bb' })[0]).to.match(/^spec\.trafficPolicy\.tls\.sni: contains the control character/);
    expect(ruleTls({ mode: 'TLS' })[0]).to.match(/^spec\.trafficPolicy\.tls\.mode: unknown value "TLS"; must be one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL/);
  });
});
