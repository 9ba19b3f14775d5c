import { expect } from 'chai';
import { validationIssues } from '../validation-issues.js';
import { KINDS, lookupKind } from '../index.js';

const issuesOf = validationIssues;

describe('kinds', () => {
  it('each kind is listed once with its names, and lookupKind finds it by any of them', () => {
    expect(new Set(KINDS.map((k) => k.kind)).size).to.equal(KINDS.length);
    for (const k of KINDS) {
      for (const name of [k.kind, k.plural, k.singular, ...k.shortNames, `${k.plural}.${k.group}`]) expect(lookupKind(name)?.kind).to.equal(k.kind);
    }
  });

  it('still refuses RequestAuthentication, saying why', () => {
    const issues = issuesOf({ apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: { name: 'jwt' }, spec: {} });
    expect(issues).to.have.length(1);
    expect(issues[0]).to.match(/^kind: "RequestAuthentication" is not supported by Weft yet: .*JWT/);
  });
});
