// Istio StringMatch (exact | prefix | regex, regex as a full match) compiled once into a predicate.
import { compileIstioRegex, type StringMatch } from '@weft/api';

export type ValueMatcher = (value: string) => boolean;

export function compileStringMatch(m: StringMatch): ValueMatcher {
  if ('exact' in m) {
    const exact = m.exact;
    return (v) => v === exact;
  }
  if ('prefix' in m) {
    const prefix = m.prefix;
    return (v) => v.startsWith(prefix);
  }
  const re = compileIstioRegex(m.regex);
  return (v) => re.test(v);
}
