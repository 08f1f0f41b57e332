// GstStructure text: the grammar GStreamer 1.22 reads (gst_structure_from_string) and the exact
// text it writes (gst_structure_to_string, which ends in ';'). Values are typed by value.ts.
// Invariant: for any text GStreamer wrote, serialize(parse(text)) === text.

import { GstParseError } from '../errors';
import { GstValue, canonicalTypeName, inferScalar, scalar, scalarContent, serializeValue, stringValue } from './value';
import { isSimpleChar } from './string-escape';

export interface GstField {
  readonly name: string;
  readonly value: GstValue;
}

export class GstStructure {
  constructor(
    readonly name: string,
    readonly fields: readonly GstField[] = [],
  ) {}

  static parse(text: string): GstStructure {
    const p = new StructureParser(text);
    const s = p.structure(false);
    p.skipSpaces();
    if (p.peek() === ';') p.pos++;
    p.skipSpaces();
    if (!p.atEnd()) p.fail('trailing text after structure');
    return s;
  }

  get(name: string): GstValue | undefined {
    return this.fields.find((f) => f.name === name)?.value;
  }

  has(name: string): boolean {
    return this.fields.some((f) => f.name === name);
  }

  /** The unescaped content of a scalar field, or undefined. */
  getString(name: string): string | undefined {
    const v = this.get(name);
    return v && v.kind === 'scalar' ? scalarContent(v) : undefined;
  }

  getNumber(name: string): number | undefined {
    const s = this.getString(name);
    return s === undefined ? undefined : Number(s);
  }

  getBigInt(name: string): bigint | undefined {
    const v = this.get(name);
    return v && v.kind === 'scalar' && /^-?\d+$/.test(v.text) ? BigInt(v.text) : undefined;
  }

  getBoolean(name: string): boolean | undefined {
    const v = this.get(name);
    return v && v.kind === 'scalar' && v.type === 'boolean' ? v.text === 'true' : undefined;
  }

  getFraction(name: string): [number, number] | undefined {
    const v = this.get(name);
    if (!v || v.kind !== 'scalar' || v.type !== 'fraction') return undefined;
    const [n, d] = v.text.split('/').map(Number);
    return [n, d];
  }

  /** A `(buffer)` field or array of buffers (such as `streamheader`) as byte buffers. */
  getBuffers(name: string): Buffer[] | undefined {
    const v = this.get(name);
    if (!v || v.type !== 'buffer') return undefined;
    const items = v.kind === 'scalar' ? [v] : v.items;
    return items.map((i) => Buffer.from((i as { text: string }).text, 'hex'));
  }

  /** A field holding a nested structure as text (GstSegment, taglist, ...), parsed. */
  getStructure(name: string): GstStructure | undefined {
    const s = this.getString(name);
    return s === undefined ? undefined : GstStructure.parse(s);
  }

  with(name: string, value: GstValue): GstStructure {
    const fields = this.fields.filter((f) => f.name !== name);
    return new GstStructure(this.name, [...fields, { name, value }]);
  }

  /** The fields only, as GStreamer writes them after the name (`, a=(int)1, b=...`). */
  serializeFields(): string {
    let out = '';
    for (const f of this.fields) out += `, ${f.name}=${serializeValue(f.value)}`;
    return out;
  }

  /** gst_structure_to_string() of GStreamer 1.22: `name, field=(type)value, ...;` */
  toString(): string {
    return this.name + this.serializeFields() + ';';
  }
}

export { stringValue };

/** Recursive-descent reader of structure and caps text; shared with caps.ts. */
export class StructureParser {
  pos = 0;
  constructor(readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): string {
    return this.text[this.pos] ?? '';
  }
  fail(message: string): never {
    throw new GstParseError(message, this.pos);
  }
  skipSpaces(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  simpleString(): string {
    const start = this.pos;
    while (this.pos < this.text.length && isSimpleChar(this.text.charCodeAt(this.pos))) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** name ( ',' field )* ; stops before ';' or the end. `caps` allows `(features)` after the name. */
  structure(caps: boolean): GstStructure & { features?: string } {
    this.skipSpaces();
    const name = this.simpleString();
    if (!/^[A-Za-z]/.test(name)) this.fail(name ? `invalid structure name '${name}'` : 'missing structure name');
    let features: string | undefined;
    if (caps && this.peek() === '(') {
      const end = this.text.indexOf(')', this.pos);
      if (end < 0) this.fail('unterminated caps features');
      features = this.text.slice(this.pos + 1, end).trim();
      this.pos = end + 1;
    }
    const fields: GstField[] = [];
    for (;;) {
      this.skipSpaces();
      const c = this.peek();
      if (c === '' || c === ';') break;
      if (c !== ',') this.fail(`expected ',' or ';' after ${fields.length ? 'field' : 'name'}`);
      this.pos++;
      this.skipSpaces();
      if (this.atEnd() || this.peek() === ';') break; // GStreamer tolerates a trailing comma
      fields.push(this.field());
    }
    const s = new GstStructure(name, fields) as GstStructure & { features?: string };
    if (features !== undefined) s.features = features;
    return s;
  }

  field(): GstField {
    const name = this.simpleString();
    if (!name) this.fail('expected a field name');
    this.skipSpaces();
    if (this.peek() !== '=') this.fail(`expected '=' after field '${name}'`);
    this.pos++;
    return { name, value: this.value(null) };
  }

  /** [ '(' type ')' ] then a list, array, range, quoted string or bare token. */
  value(inheritedType: string | null): GstValue {
    this.skipSpaces();
    let type = inheritedType;
    if (this.peek() === '(') {
      this.pos++;
      this.skipSpaces();
      const t = this.simpleString();
      if (!t) this.fail('expected a type name');
      this.skipSpaces();
      if (this.peek() !== ')') this.fail("expected ')' after type name");
      this.pos++;
      this.skipSpaces();
      type = canonicalTypeName(t);
    }
    const c = this.peek();
    if (c === '{' || c === '<' || c === '[') return this.collection(c, type);
    const start = this.pos;
    let token: string;
    let quoted = false;
    if (c === '"') {
      quoted = true;
      token = this.quoted();
    } else {
      token = this.simpleString();
      if (!token) this.fail('expected a value');
    }
    if (type === null) {
      const guess = inferScalar(token, quoted);
      return { kind: 'scalar', type: guess.type, text: guess.text };
    }
    return scalar(type, token, quoted, start);
  }

  /** Text between double quotes, escapes kept; positions the reader after the closing quote. */
  quoted(): string {
    const start = ++this.pos;
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos];
      if (ch === '\\') this.pos += 2;
      else if (ch === '"') {
        const inner = this.text.slice(start, this.pos);
        this.pos++;
        return inner;
      } else this.pos++;
    }
    this.pos = start - 1;
    return this.fail('unterminated quoted string');
  }

  collection(open: string, type: string | null): GstValue {
    const close = open === '{' ? '}' : open === '<' ? '>' : ']';
    const kind = open === '{' ? 'list' : open === '<' ? 'array' : 'range';
    this.pos++;
    const items: GstValue[] = [];
    this.skipSpaces();
    if (this.peek() !== close) {
      for (;;) {
        const item = this.value(type);
        if (item.kind !== 'scalar') this.fail('nested lists are not supported');
        type ??= item.type;
        items.push(item);
        this.skipSpaces();
        const c = this.peek();
        if (c === close) break;
        if (c !== ',') this.fail(`expected ',' or '${close}'`);
        this.pos++;
      }
    }
    this.pos++;
    if (kind === 'range' && (items.length < 2 || items.length > 3)) this.fail('a range has 2 or 3 values');
    const elemType = type ?? 'string';
    return { kind, type: elemType, items: items.map((i) => (i.type === elemType ? i : this.retype(i, elemType))) };
  }

  private retype(v: GstValue, type: string): GstValue {
    if (v.kind !== 'scalar') return v;
    return scalar(type, v.text, false, this.pos);
  }
}
