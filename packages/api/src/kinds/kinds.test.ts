import { expect } from 'chai';
import { isValidationError, KINDS, lookupKind, validateResource, type ValidationError } from '../index.js';

function issuesOf(doc: unknown): string[] {
  try {
    validateResource(doc);
  } catch (e) {
    expect(isValidationError(e)).to.equal(true);
    return (e as ValidationError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}

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
