// A small, safe arithmetic language for profile formulas (`v_l1 * i_l1 * pf`): parsed once into
// closures, no eval. Numbers, point names, `t` (seconds since power-on), + - * / % ^, comparisons,
// `c ? a : b`, and a fixed set of Math functions. Booleans are 1 and 0.

export type Scope = (name: string) => number;
export type Compiled = (scope: Scope) => number;

export class ExpressionError extends Error {
  override name = 'ExpressionError';
}

const FUNCTIONS: Record<string, { arity: [number, number]; fn: (...a: number[]) => number }> = {
  abs: { arity: [1, 1], fn: Math.abs },
  sqrt: { arity: [1, 1], fn: Math.sqrt },
  sin: { arity: [1, 1], fn: Math.sin },
  cos: { arity: [1, 1], fn: Math.cos },
  exp: { arity: [1, 1], fn: Math.exp },
  ln: { arity: [1, 1], fn: Math.log },
  round: { arity: [1, 1], fn: Math.round },
  floor: { arity: [1, 1], fn: Math.floor },
  ceil: { arity: [1, 1], fn: Math.ceil },
  min: { arity: [1, 16], fn: Math.min },
  max: { arity: [1, 16], fn: Math.max },
  clamp: { arity: [3, 3], fn: (v, lo, hi) => Math.min(hi, Math.max(lo, v)) },
};
const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };
const MAX_LENGTH = 2000;

type Token = { kind: 'num'; value: number; at: number } | { kind: 'id'; value: string; at: number } | { kind: 'op'; value: string; at: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const re = /(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|==|!=|&&|\|\||[-+*/%^(),<>?:!])/y;
  let i = 0;
  for (;;) {
    while (i < src.length && /\s/.test(src[i])) i++;
    if (i >= src.length) return out;
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) throw new ExpressionError(`unexpected character ${JSON.stringify(src[i])} at ${i + 1}`);
    const at = i + 1;
    if (m[1] !== undefined) out.push({ kind: 'num', value: Number(m[1]), at });
    else if (m[2] !== undefined) out.push({ kind: 'id', value: m[2], at });
    else out.push({ kind: 'op', value: m[3], at });
    i = re.lastIndex;
  }
}

/**
 * Compiles `src`. `names` are the identifiers a formula may use besides `t`, the constants and the
 * functions; an unknown one is an error naming it and the known ones.
 */
export function compileExpression(src: string, names: ReadonlySet<string>): { run: Compiled; uses: Set<string> } {
  if (src.length > MAX_LENGTH) throw new ExpressionError(`longer than ${MAX_LENGTH} characters`);
  const tokens = tokenize(src);
  const uses = new Set<string>();
  let pos = 0;
  const peek = () => tokens[pos];
  const isOp = (v: string) => peek()?.kind === 'op' && peek().value === v;
  const expect = (v: string) => {
    if (!isOp(v)) throw new ExpressionError(`expected "${v}" ${where()}`);
    pos++;
  };
  const where = () => (peek() ? `at ${peek().at} ("${peek().value}")` : 'at the end');

  // Precedence climbing, lowest first: ?: || && comparisons +- */% ^ unary.
  const ternary = (): Compiled => {
    const cond = or();
    if (!isOp('?')) return cond;
    pos++;
    const a = ternary();
    expect(':');
    const b = ternary();
    return (s) => (cond(s) !== 0 ? a(s) : b(s));
  };
  const binary = (next: () => Compiled, ops: Record<string, (a: number, b: number) => number>) => (): Compiled => {
    let left = next();
    while (peek()?.kind === 'op' && Object.hasOwn(ops, peek().value)) {
      const f = ops[peek().value];
      pos++;
      const l = left;
      const r = next();
      left = (s) => f(l(s), r(s));
    }
    return left;
  };
  const power = (): Compiled => {
    const base = unary();
    if (!isOp('^')) return base;
    pos++;
    const exp = power(); // right-associative
    return (s) => base(s) ** exp(s);
  };
  const unary = (): Compiled => {
    if (isOp('-')) {
      pos++;
      const v = unary();
      return (s) => -v(s);
    }
    if (isOp('+')) {
      pos++;
      return unary();
    }
    if (isOp('!')) {
      pos++;
      const v = unary();
      return (s) => (v(s) === 0 ? 1 : 0);
    }
    return primary();
  };
  const primary = (): Compiled => {
    const tok = peek();
    if (!tok) throw new ExpressionError('unexpected end of formula');
    if (tok.kind === 'num') {
      pos++;
      return () => tok.value;
    }
    if (tok.kind === 'op' && tok.value === '(') {
      pos++;
      const inner = ternary();
      expect(')');
      return inner;
    }
    if (tok.kind === 'id') {
      pos++;
      const name = tok.value;
      if (isOp('(')) {
        // Own keys only: `constructor` or `__proto__` must never reach Object.prototype.
        const f = Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
        if (!f) throw new ExpressionError(`unknown function "${name}" at ${tok.at} (known: ${Object.keys(FUNCTIONS).join(', ')})`);
        pos++;
        const args: Compiled[] = [];
        if (!isOp(')')) {
          args.push(ternary());
          while (isOp(',')) {
            pos++;
            args.push(ternary());
          }
        }
        expect(')');
        if (args.length < f.arity[0] || args.length > f.arity[1]) throw new ExpressionError(`${name}() takes ${f.arity[0] === f.arity[1] ? f.arity[0] : `${f.arity[0]}..${f.arity[1]}`} argument(s), got ${args.length}`);
        return (s) => f.fn(...args.map((a) => a(s)));
      }
      if (Object.hasOwn(CONSTANTS, name)) return () => CONSTANTS[name];
      if (name !== 't' && !names.has(name)) throw new ExpressionError(`unknown name "${name}" at ${tok.at} (known: t, ${[...names].join(', ') || 'no points'})`);
      uses.add(name);
      return (s) => s(name);
    }
    throw new ExpressionError(`unexpected "${tok.value}" ${where()}`);
  };
  const mul = binary(power, { '*': (a, b) => a * b, '/': (a, b) => a / b, '%': (a, b) => a % b });
  const add = binary(mul, { '+': (a, b) => a + b, '-': (a, b) => a - b });
  const cmp = binary(add, {
    '<': (a, b) => Number(a < b), '>': (a, b) => Number(a > b), '<=': (a, b) => Number(a <= b), '>=': (a, b) => Number(a >= b),
    '==': (a, b) => Number(a === b), '!=': (a, b) => Number(a !== b),
  });
  const and = binary(cmp, { '&&': (a, b) => Number(a !== 0 && b !== 0) });
  const or = binary(and, { '||': (a, b) => Number(a !== 0 || b !== 0) });

  if (tokens.length === 0) throw new ExpressionError('empty formula');
  const run = ternary();
  if (pos < tokens.length) throw new ExpressionError(`unexpected "${peek().value}" ${where()}`);
  return { run, uses };
}
