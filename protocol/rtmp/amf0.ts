// AMF0, the value encoding of RTMP commands (connect, createStream, publish, onStatus) and
// metadata (@setDataFrame onMetaData). Pure and bounded: nesting depth and item counts are
// limited, and every read is checked against the end of the input.

export type Amf0Value = number | boolean | string | null | undefined | Date | Amf0Value[] | { [key: string]: Amf0Value };

export class Amf0Error extends Error {}

const MAX_DEPTH = 16;
const MAX_ITEMS = 4096;

const T = { NUMBER: 0, BOOLEAN: 1, STRING: 2, OBJECT: 3, NULL: 5, UNDEFINED: 6, ECMA_ARRAY: 8, OBJECT_END: 9, STRICT_ARRAY: 10, DATE: 11, LONG_STRING: 12 } as const;

class Reader {
  pos = 0;
  constructor(readonly b: Buffer) {}
  need(n: number): void {
    if (this.pos + n > this.b.length) throw new Amf0Error(`AMF0 value truncated at byte ${this.pos}`);
  }
  u8(): number {
    this.need(1);
    return this.b[this.pos++];
  }
  u16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.b.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  str(n: number): string {
    this.need(n);
    const s = this.b.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}

function readValue(r: Reader, depth: number): Amf0Value {
  if (depth > MAX_DEPTH) throw new Amf0Error('AMF0 nesting too deep');
  const type = r.u8();
  switch (type) {
    case T.NUMBER: {
      r.need(8);
      const v = r.b.readDoubleBE(r.pos);
      r.pos += 8;
      return v;
    }
    case T.BOOLEAN:
      return r.u8() !== 0;
    case T.STRING:
      return r.str(r.u16());
    case T.LONG_STRING:
      return r.str(r.u32());
    case T.NULL:
      return null;
    case T.UNDEFINED:
      return undefined;
    case T.OBJECT:
      return readProperties(r, depth);
    case T.ECMA_ARRAY:
      r.u32(); // a count hint; the end marker is what counts
      return readProperties(r, depth);
    case T.STRICT_ARRAY: {
      const n = r.u32();
      if (n > MAX_ITEMS) throw new Amf0Error(`AMF0 array of ${n} items`);
      const out: Amf0Value[] = [];
      for (let i = 0; i < n; i++) out.push(readValue(r, depth + 1));
      return out;
    }
    case T.DATE: {
      r.need(10);
      const ms = r.b.readDoubleBE(r.pos);
      r.pos += 10; // and a 16-bit time zone, unused
      return new Date(ms);
    }
    default:
      throw new Amf0Error(`AMF0 type ${type} is not supported`);
  }
}

function readProperties(r: Reader, depth: number): { [key: string]: Amf0Value } {
  const out: { [key: string]: Amf0Value } = {};
  for (let i = 0; ; i++) {
    if (i > MAX_ITEMS) throw new Amf0Error('AMF0 object with too many properties');
    const key = r.str(r.u16());
    if (key === '') {
      const end = r.u8();
      if (end !== T.OBJECT_END) throw new Amf0Error('AMF0 object without its end marker');
      return out;
    }
    const v = readValue(r, depth + 1);
    if (key !== '__proto__') out[key] = v;
  }
}

/** Every value in `b`, in order. */
export function decodeAmf0(b: Buffer): Amf0Value[] {
  const r = new Reader(b);
  const out: Amf0Value[] = [];
  while (r.pos < b.length) {
    if (out.length >= MAX_ITEMS) throw new Amf0Error('too many AMF0 values');
    out.push(readValue(r, 0));
  }
  return out;
}

function writeString(parts: Buffer[], s: string): void {
  const b = Buffer.from(s, 'utf8');
  const h = Buffer.alloc(2);
  h.writeUInt16BE(b.length);
  parts.push(h, b);
}

function writeValue(parts: Buffer[], v: Amf0Value): void {
  if (typeof v === 'number') {
    const b = Buffer.alloc(9);
    b[0] = T.NUMBER;
    b.writeDoubleBE(v, 1);
    parts.push(b);
  } else if (typeof v === 'boolean') {
    parts.push(Buffer.from([T.BOOLEAN, v ? 1 : 0]));
  } else if (typeof v === 'string') {
    parts.push(Buffer.from([T.STRING]));
    writeString(parts, v);
  } else if (v === null) {
    parts.push(Buffer.from([T.NULL]));
  } else if (v === undefined) {
    parts.push(Buffer.from([T.UNDEFINED]));
  } else if (v instanceof Date) {
    const b = Buffer.alloc(11);
    b[0] = T.DATE;
    b.writeDoubleBE(v.getTime(), 1);
    parts.push(b);
  } else if (Array.isArray(v)) {
    const h = Buffer.alloc(5);
    h[0] = T.STRICT_ARRAY;
    h.writeUInt32BE(v.length, 1);
    parts.push(h);
    for (const x of v) writeValue(parts, x);
  } else {
    parts.push(Buffer.from([T.OBJECT]));
    for (const [k, x] of Object.entries(v)) {
      writeString(parts, k);
      writeValue(parts, x);
    }
    parts.push(Buffer.from([0, 0, T.OBJECT_END]));
  }
}

export function encodeAmf0(...values: Amf0Value[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) writeValue(parts, v);
  return Buffer.concat(parts);
}
