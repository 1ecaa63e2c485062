// "Did you mean …?" for mistyped commands and options: the nearest known word by edit distance.

/** Levenshtein distance between two short strings. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

/** ` (did you mean validate?)` when one known word is close enough to `typed`, else ''. */
export function didYouMean(typed: string, known: readonly string[]): string {
  let best = '';
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(typed, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  // Close enough: at most a third of the word wrong (valdate → validate, --sm → --sim).
  return best && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? ` (did you mean ${best}?)` : '';
}
