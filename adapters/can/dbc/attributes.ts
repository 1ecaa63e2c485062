// DBC attribute definitions (BA_DEF_) and values (BA_, BA_DEF_DEF_): typed, with ENUM indexes
// resolved to their names, so `GenMsgCycleTime` is a number and `GenMsgSendType` reads "Cyclic".
import { Tok, type Token } from './tokens.ts';

export type AttributeValue = string | number;

export interface AttributeDef {
  name: string;
  /** What the attribute applies to: the network (''), BU_, BO_, SG_ or EV_. */
  object: '' | 'BU_' | 'BO_' | 'SG_' | 'EV_';
  type: 'INT' | 'HEX' | 'FLOAT' | 'STRING' | 'ENUM';
  min?: number;
  max?: number;
  enumValues?: string[];
  default?: AttributeValue;
}

/** The parser calls this file needs (kept to an interface so the two files do not import each other). */
export interface TokenReader {
  peek(): Token;
  next(): Token;
  str(context: string): string;
  ident(context: string): string;
  number(what: string): number;
  fail(line: number, message: string): never;
}

/** `BA_DEF_ [BU_|BO_|SG_|EV_] "name" INT|HEX|FLOAT min max | STRING | ENUM "a","b"` (without the `;`). */
export function parseAttributeDef(p: TokenReader, line: number): AttributeDef {
  let object: AttributeDef['object'] = '';
  if (p.peek().kind === Tok.Id) {
    const o = p.next().v;
    if (o !== 'BU_' && o !== 'BO_' && o !== 'SG_' && o !== 'EV_') p.fail(line, `BA_DEF_: expected BU_, BO_, SG_, EV_ or the attribute name, found "${o}"`);
    object = o;
  }
  const name = p.str('BA_DEF_');
  const type = p.ident(`BA_DEF_ "${name}" type`);
  const def: AttributeDef = { name, object, type: type as AttributeDef['type'] };
  switch (type) {
    case 'INT':
    case 'HEX':
    case 'FLOAT':
      def.min = p.number(`BA_DEF_ "${name}" minimum`);
      def.max = p.number(`BA_DEF_ "${name}" maximum`);
      break;
    case 'STRING':
      break;
    case 'ENUM':
      def.enumValues = [];
      while (p.peek().kind === Tok.Str) {
        def.enumValues.push(p.next().v);
        if (p.peek().v === ',') p.next();
      }
      break;
    default:
      p.fail(line, `BA_DEF_ "${name}": type "${type}" is not INT, HEX, FLOAT, STRING or ENUM`);
  }
  return def;
}

/** A value as its definition types it: numbers for INT/HEX/FLOAT, the name for an ENUM index. */
export function attributeValue(def: AttributeDef | undefined, value: string | number): AttributeValue {
  if (!def) return value;
  if (def.type === 'ENUM') {
    const i = Number(value);
    if (typeof value === 'number' || /^\d+$/.test(value)) return def.enumValues?.[i] ?? value;
    return value;
  }
  if (def.type === 'STRING') return String(value);
  const n = Number(value);
  return Number.isFinite(n) ? n : value;
}
