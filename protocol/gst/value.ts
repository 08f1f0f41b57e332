// Typed values of GstStructure fields, as text: how GStreamer 1.22 reads and writes each type.
// Owns canonicalisation of scalar values (int, double, fraction, boolean, string, buffer...);
// does not own the structure grammar (structure.ts). A value always holds its canonical text.

import { GstParseError } from '../errors';
import { unwrapString, wrapString } from './string-escape';

/** A field value: a scalar, or a list `{ }`, array `< >` or range `[ ]` of scalars of one type. */
export type GstValue =
  | { readonly kind: 'scalar'; readonly type: string; readonly text: string }
  | { readonly kind: 'list' | 'array' | 'range'; readonly type: string; readonly items: readonly GstValue[] };

const INT_TYPES: Record<string, { min: bigint; max: bigint }> = {
  int: { min: -(2n ** 31n), max: 2n ** 31n - 1n },
  gint: { min: -(2n ** 31n), max: 2n ** 31n - 1n },
  uint: { min: 0n, max: 2n ** 32n - 1n },
  guint: { min: 0n, max: 2n ** 32n - 1n },
  int64: { min: -(2n ** 63n), max: 2n ** 63n - 1n },
  gint64: { min: -(2n ** 63n), max: 2n ** 63n - 1n },
  uint64: { min: 0n, max: 2n ** 64n - 1n },
  guint64: { min: 0n, max: 2n ** 64n - 1n },
};

/** Type aliases GStreamer accepts in `(type)` annotations, mapped to the name it writes back. */
const TYPE_ALIASES: Record<string, string> = {
  i: 'int', gint: 'int', u: 'uint', guint: 'uint', f: 'float', gfloat: 'float', d: 'double',
  gdouble: 'double', b: 'boolean', bool: 'boolean', gboolean: 'boolean', s: 'string', str: 'string',
  gchararray: 'string', fourcc: 'string', GstFraction: 'fraction', GstBuffer: 'buffer',
  int64: 'gint64', uint64: 'guint64', GstStructure: 'structure',
};

export function canonicalTypeName(type: string): string {
  return TYPE_ALIASES[type] ?? type;
}

/** Formats a double like C's printf("%.17g"), which is what g_ascii_dtostr writes. */
export function formatDouble(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mant, expText] = x.toExponential(16).split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 17) {
    const m = stripZeros(mant);
    const e = Math.abs(exp);
    return `${m}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' + e : e}`;
  }
  const negative = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let out: string;
  if (exp >= 0) {
    const frac = digits.slice(exp + 1);
    out = digits.slice(0, exp + 1) + (frac ? '.' + frac : '');
  } else {
    out = '0.' + '0'.repeat(-exp - 1) + digits;
  }
  return (negative ? '-' : '') + stripZeros(out);
}

function stripZeros(s: string): string {
  if (s.indexOf('.') < 0) return s;
  return s.replace(/\.?0+$/, '');
}

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b) [a, b] = [b, a % b];
  return a;
}

const INTEGER_RE = /^[+-]?(0[xX][0-9a-fA-F]+|[0-9]+)$/;
const DOUBLE_RE = /^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)$/i;

function parseBigInt(text: string): bigint | null {
  if (!INTEGER_RE.test(text)) return null;
  const neg = text.startsWith('-');
  const body = text.replace(/^[+-]/, '');
  const v = BigInt(body);
  return neg ? -v : v;
}

function parseBoolean(text: string): boolean | null {
  const t = text.toLowerCase();
  if (t === 'true' || t === 'yes' || t === 't' || t === '1') return true;
  if (t === 'false' || t === 'no' || t === 'f' || t === '0') return false;
  return null;
}

function parseFraction(text: string): [bigint, bigint] | null {
  const m = /^([+-]?\d+)(?:\s*\/\s*([+-]?\d+))?$/.exec(text);
  if (!m) return null;
  let n = BigInt(m[1]);
  let d = m[2] !== undefined ? BigInt(m[2]) : 1n;
  if (d === 0n) return null;
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d) || 1n;
  return [n / g, d / g];
}

/**
 * Turns one scalar token into its canonical text for `type`. `quoted` says whether the token
 * came in double quotes (then `token` is the text between them, escapes intact).
 * Returns null when the token is not a valid value of that type.
 */
export function canonicalScalar(type: string, token: string, quoted: boolean): string | null {
  const limits = INT_TYPES[type];
  if (limits) {
    if (quoted) return null;
    const v = parseBigInt(token);
    if (v === null || v < limits.min || v > limits.max) return null;
    return v.toString();
  }
  switch (type) {
    case 'double':
    case 'float': {
      if (quoted || !DOUBLE_RE.test(token)) return null;
      const v = Number(token);
      if (Number.isNaN(v) && !/nan/i.test(token)) return null;
      return formatDouble(type === 'float' ? Math.fround(v) : v);
    }
    case 'boolean': {
      if (quoted) return null;
      const b = parseBoolean(token);
      return b === null ? null : String(b);
    }
    case 'fraction': {
      if (quoted) return null;
      const f = parseFraction(token);
      return f === null ? null : `${f[0]}/${f[1]}`;
    }
    case 'string':
      if (!quoted) return token === 'NULL' ? 'NULL' : wrapString(token);
      return wrapString(unwrapString(token));
    case 'buffer':
      if (quoted || !/^([0-9a-fA-F]{2})*$/.test(token)) return null;
      return token.toLowerCase();
    default:
      // Enums, flags, nested caps/segments/taglists...: kept exactly as written.
      return quoted ? `"${token}"` : token;
  }
}

/** Guesses the type of an untyped token the way GStreamer does: int, double, fraction, boolean, string. */
export function inferScalar(token: string, quoted: boolean): { type: string; text: string } {
  if (!quoted) {
    for (const type of ['int', 'double', 'fraction', 'boolean']) {
      const text = canonicalScalar(type, token, false);
      if (text !== null) return { type, text };
    }
  }
  return { type: 'string', text: canonicalScalar('string', token, quoted) as string };
}

export function scalar(type: string, token: string, quoted = false, position = 0): GstValue {
  const text = canonicalScalar(type, token, quoted);
  if (text === null) throw new GstParseError(`'${token}' is not a valid ${type}`, position);
  return { kind: 'scalar', type, text };
}

export function stringValue(s: string): GstValue {
  return { kind: 'scalar', type: 'string', text: wrapString(s) };
}

export function serializeValue(v: GstValue, withType = true): string {
  const prefix = withType ? `(${v.type})` : '';
  if (v.kind === 'scalar') return prefix + v.text;
  const inner = v.items.map((i) => serializeValue(i, false)).join(', ');
  const [open, close] = v.kind === 'list' ? ['{', '}'] : v.kind === 'array' ? ['<', '>'] : ['[', ']'];
  return `${prefix}${open} ${inner} ${close}`;
}

/** The content of a scalar: strings unescaped, everything else as its text. */
export function scalarContent(v: GstValue): string {
  if (v.kind !== 'scalar') throw new TypeError('not a scalar value');
  if (v.text.startsWith('"') && v.text.endsWith('"') && v.text.length >= 2) return unwrapString(v.text.slice(1, -1));
  return v.text;
}
