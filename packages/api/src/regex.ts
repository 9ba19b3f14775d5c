// Istio's StringMatch.regex is RE2 and must match the whole value. JavaScript's RegExp reads the RE2
// subset that rules use; the one RE2 form it lacks, a leading `(?i)`, becomes the `i` flag.

export function compileIstioRegex(re: string): RegExp {
  let source = re;
  let flags = '';
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    flags = 'i';
  }
  return new RegExp(`^(?:${source})$`, flags);
}
