// weftctl's Warning: lines: Istio's code, the document, the resource and the field, every part escaped
// (the text comes from weftd and names what users wrote), and nothing from an answer without warnings.
import { expect } from 'chai';
import { warningLine, warningsOf } from './warning-lines.js';

describe('warningLine', () => {
  const w = { source: 'vs.yaml#1', kind: 'VirtualService', namespace: 'bookinfo', name: 'reviews', path: 'spec.http[0].route[0].destination.subset', message: 'Referenced host+subset in destinationrule not found: "reviews+v2"; …', code: 'IST0101' };

  it('reads as kubectl prints a warning, with istioctl analyze\'s code in front', () => {
    expect(warningLine(w)).to.equal(
      'Warning: [IST0101] vs.yaml#1 (VirtualService bookinfo/reviews) spec.http[0].route[0].destination.subset: Referenced host+subset in destinationrule not found: "reviews+v2"; …',
    );
    const { source: _none, ...outsideTheBatch } = w;
    expect(warningLine(outsideTheBatch)).to.match(/^Warning: \[IST0101\] \(VirtualService bookinfo\/reviews\) spec\.http/);
  });

  it('keeps each warning on one line: control characters from a file name or message are escaped', () => {
    const line = warningLine({ ...w, source: 'evil\n\u001b[2Jname.yaml#1', message: 'a\nb' });
    expect(line).to.not.match(/[\n\u001b]/);
    expect(line).to.contain('evil\\x0a\\x1b[2Jname.yaml#1').and.contain(': a\\x0ab');
  });

  it('takes the warnings of an answer, and none from an older weftd or a malformed answer', () => {
    expect(warningsOf({ warnings: [w] })).to.deep.equal([w]);
    expect(warningsOf({})).to.deep.equal([]);
    expect(warningsOf({ warnings: 'x' })).to.deep.equal([]);
    expect(warningsOf({ warnings: [null, 3, w] })).to.deep.equal([w]);
  });
});
