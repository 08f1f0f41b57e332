// AMF0, the value encoding of RTMP commands (connect, createStream, publish, onStatus) and
// metadata (@setDataFrame onMetaData). Reads the 0x11 marker some encoders send ("the next value
// is AMF3") through amf3.ts; writes AMF0 only. Pure and bounded: nesting depth and item counts
// are limited, and every read is checked against the end of the input.

import { AmfError, AmfValue, ByteReader, MAX_DEPTH, MAX_ITEMS, setProperty } from './amf-reader';
import { readAmf3Value } from './amf3';

export type Amf0Value = AmfValue;
/** The error of both AMF decoders (FLUX_RTMP_BAD_AMF). */
export { AmfError as Amf0Error };

const T = {
  NUMBER: 0, BOOLEAN: 1, STRING: 2, OBJECT: 3, NULL: 5, UNDEFINED: 6, ECMA_ARRAY: 8, OBJECT_END: 9, STRICT_ARRAY: 10, DATE: 11, LONG_STRING: 12,
  XML_DOCUMENT: 15, TYPED_OBJECT: 16, AVMPLUS: 17,
} as const;

function readValue(r: ByteReader, depth: number): Amf0Value {
  if (depth > MAX_DEPTH) throw new AmfError('AMF0 nesting too deep');
  const type = r.u8();
  switch (type) {
    case T.NUMBER:
      return r.double();
    case T.BOOLEAN:
      return r.u8() !== 0;
    case T.STRING:
      return r.str(r.u16());
    case T.LONG_STRING:
    case T.XML_DOCUMENT:
      return r.str(r.u32());
    case T.NULL:
      return null;
    case T.UNDEFINED:
      return undefined;
    case T.OBJECT:
      return readProperties(r, depth);
    case T.TYPED_OBJECT:
      r.str(r.u16()); // the class name: not used
      return readProperties(r, depth);
    case T.ECMA_ARRAY:
      r.u32(); // a count hint; the end marker is what counts
      return readProperties(r, depth);
    case T.STRICT_ARRAY: {
      const n = r.u32();
      if (n > MAX_ITEMS) throw new AmfError(`AMF0 array of ${n} items`);
      const out: Amf0Value[] = [];
      for (let i = 0; i < n; i++) out.push(readValue(r, depth + 1));
      return out;
    }
    case T.DATE: {
      const ms = r.double();
      r.u16(); // a time zone, unused
      return new Date(ms);
    }
    case T.AVMPLUS:
      return readAmf3Value(r, depth + 1);
    default:
      throw new AmfError(`AMF0 type ${type} is not supported`);
  }
}

function readProperties(r: ByteReader, depth: number): { [key: string]: Amf0Value } {
  const out: { [key: string]: Amf0Value } = {};
  for (let i = 0; ; i++) {
    if (i > MAX_ITEMS) throw new AmfError('AMF0 object with too many properties');
    const key = r.str(r.u16());
    if (key === '') {
      const end = r.u8();
      if (end !== T.OBJECT_END) throw new AmfError('AMF0 object without its end marker');
      return out;
    }
    setProperty(out, key, readValue(r, depth + 1));
  }
}

/** Every value in `b`, in order. */
export function decodeAmf0(b: Buffer): Amf0Value[] {
  const r = new ByteReader(b);
  const out: Amf0Value[] = [];
  while (r.pos < b.length) {
    if (out.length >= MAX_ITEMS) throw new AmfError('too many AMF0 values');
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
