// DBC text as tokens (identifiers, numbers, strings, punctuation) with their line and whether they
// open a line, so the parser can tell statements that end at a line end from those that end at `;`.

export const Tok = { Id: 0, Num: 1, Str: 2, Punct: 3, End: 4 } as const;
export type TokKind = (typeof Tok)[keyof typeof Tok];

export interface Token {
  kind: TokKind;
  /** The text (a string's content with `\"` and `\\` unescaped). */
  v: string;
  line: number;
  /** First token on its line. */
  bol: boolean;
  /** First token on its line and indented (NS_ entries, SG_ lines). */
  indented: boolean;
}

export class DbcSyntaxError extends Error {
  constructor(readonly line: number, message: string) {
    super(message);
    this.name = 'DbcSyntaxError';
  }
}

const PUNCT = new Set([':', ';', '|', '@', '(', ')', '[', ']', ',', '+', '-', '{', '}']);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isIdStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isId = (c: number) => isIdStart(c) || isDigit(c);

/** Splits DBC text into tokens; throws DbcSyntaxError (with the line) on an unterminated string or a stray character. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let bol = true;
  let indented = false;
  let i = 0;
  const n = text.length;
  const push = (kind: TokKind, v: string, at: number) => {
    out.push({ kind, v, line: at, bol, indented: bol && indented });
    bol = false;
  };
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      bol = true;
      indented = false;
      i++;
    } else if (c === 32 || c === 9 || c === 13 || c === 12 || c === 0xfeff) {
      if (bol) indented = true;
      i++;
    } else if (c === 34) {
      const start = line;
      let s = '';
      let j = i + 1;
      for (;;) {
        if (j >= n) throw new DbcSyntaxError(start, 'string not terminated (a `"` is missing)');
        const d = text.charCodeAt(j);
        if (d === 92 && j + 1 < n && (text[j + 1] === '"' || text[j + 1] === '\\')) {
          s += text[j + 1];
          j += 2;
          continue;
        }
        if (d === 34) break;
        if (d === 10) line++;
        s += text[j];
        j++;
      }
      push(Tok.Str, s.replace(/\r\n/g, '\n'), start);
      i = j + 1;
    } else if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(i + 1)))) {
      const m = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 64))!;
      push(Tok.Num, m[0], line);
      i += m[0].length;
    } else if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isId(text.charCodeAt(j))) j++;
      push(Tok.Id, text.slice(i, j), line);
      i = j;
    } else if (c === 47 && text.charCodeAt(i + 1) === 47) {
      // `//` comments, which some generators write although the format has none.
      while (i < n && text.charCodeAt(i) !== 10) i++;
    } else if (PUNCT.has(text[i])) {
      push(Tok.Punct, text[i], line);
      i++;
    } else {
      throw new DbcSyntaxError(line, `unexpected character ${JSON.stringify(text[i])} (U+${c.toString(16).toUpperCase().padStart(4, '0')})`);
    }
  }
  out.push({ kind: Tok.End, v: '', line, bol: true, indented: false });
  return out;
}

export function describeToken(t: Token): string {
  switch (t.kind) {
    case Tok.End:
      return 'the end of the file';
    case Tok.Str:
      return `the string "${t.v.length > 30 ? t.v.slice(0, 27) + '...' : t.v}"`;
    default:
      return `"${t.v}"`;
  }
}
