/**
 * Perl regular expressions as JavaScript ones, for the `pattern`s of the PVE API schema and
 * the validators ported from pve-common.
 *
 * PVE checks a pattern with `$value !~ m/^$pattern$/` (pve-common JSONSchema.pm check_prop):
 * anchored, but NOT wrapped in a group, and Perl's `$` also matches before a final newline.
 * Patterns that came from `qr//` objects are stringified by Perl as `(?^:...)` / `(?^i:...)`;
 * JavaScript (Node 20) has no inline modifiers, so a case-insensitive group makes the whole
 * expression case-insensitive. Every such pattern in the PVE 9 schema is wholly inside its
 * `(?^i:)` group, so this is exact for the schema we have.
 */

export function perlToJsSource(pattern: string): { source: string; ignoreCase: boolean } {
  let ignoreCase = false;
  let source = pattern.replace(/\(\?\^([a-z]*):/g, (_match, flags: string) => {
    if (flags.includes('i')) ignoreCase = true;
    return '(?:';
  });
  // Perl >= 5.34 reads `{,n}` as `{0,n}` (PVE 9 runs Perl 5.40); JavaScript reads it literally.
  source = source.replace(/\{,(\d+)\}/g, '{0,$1}');
  // atomic groups do not exist in JavaScript; a plain group accepts the same strings for the
  // schema's only one (a list of `[+-]word` items)
  source = source.replace(/\(\?>/g, '(?:');
  source = source.replace(/\\z/g, '$').replace(/\\A/g, '^');
  return { source, ignoreCase };
}

/** `m/^$pattern$/` as PVE applies a schema pattern; undefined if JavaScript cannot compile it. */
export function schemaPattern(pattern: string): RegExp | undefined {
  const { source, ignoreCase } = perlToJsSource(pattern);
  try {
    return new RegExp(`^${source}\\n?$`, ignoreCase ? 'i' : '');
  } catch {
    return undefined;
  }
}

/** A JavaScript regex written like its Perl original (`m/^...$/`), given Perl's `$` semantics. */
export function perl(re: RegExp): RegExp {
  const source =
    re.source.endsWith('$') && !re.source.endsWith('\\$') ? `${re.source.slice(0, -1)}\\n?$` : re.source;
  return new RegExp(source, re.flags);
}
