// AMF3 values as they reach an RTMP server: inside AMF0 after the 0x11 avmplus-object marker
// ("switch to AMF3 for the next value", which some encoders use for the connect object), each
// with a fresh AMF3 context. A reader only. Bounded like AMF0: depth, item counts and reference
// tables are limited, every read is checked, a reference to an object still being read (a cycle)
// is refused. ByteArray, Dictionary and externalizable objects are refused (no encoder sends
// them in a command).

import { AmfError, AmfValue, ByteReader, MAX_DEPTH, MAX_ITEMS, setProperty } from './amf-reader';

const M = {
  UNDEFINED: 0x00, NULL: 0x01, FALSE: 0x02, TRUE: 0x03, INTEGER: 0x04, DOUBLE: 0x05, STRING: 0x06, XML_DOC: 0x07, DATE: 0x08,
  ARRAY: 0x09, OBJECT: 0x0a, XML: 0x0b, BYTE_ARRAY: 0x0c, VECTOR_INT: 0x0d, VECTOR_UINT: 0x0e, VECTOR_DOUBLE: 0x0f, VECTOR_OBJECT: 0x10, DICTIONARY: 0x11,
} as const;

interface Traits {
  dynamic: boolean;
  members: string[];
}

/** The reference tables of one AMF3 context (ActionScript's serializer keeps three). */
class Context {
  readonly strings: string[] = [];
  readonly objects: Array<{ value: AmfValue; done: boolean }> = [];
  readonly traits: Traits[] = [];
  add<T>(table: T[], v: T): void {
    if (table.length >= MAX_ITEMS) throw new AmfError('AMF3 reference table full');
    table.push(v);
  }
}

/** U29: 1 to 4 bytes, 7 bits each but the 4th, which gives 8. */
function u29(r: ByteReader): number {
  let v = 0;
  for (let i = 0; i < 3; i++) {
    const b = r.u8();
    v = (v << 7) | (b & 0x7f);
    if (!(b & 0x80)) return v;
  }
  return ((v << 8) | r.u8()) >>> 0;
}

function count(n: number, what: string): number {
  if (n > MAX_ITEMS) throw new AmfError(`AMF3 ${what} of ${n} items`);
  return n;
}

function string(r: ByteReader, c: Context): string {
  const h = u29(r);
  if (!(h & 1)) {
    const s = c.strings[h >> 1];
    if (s === undefined) throw new AmfError(`AMF3 string reference ${h >> 1} out of range`);
    return s;
  }
  const s = r.str(h >>> 1);
  if (s !== '') c.add(c.strings, s);
  return s;
}

/** The object at a reference, or null when `h` is not a reference (its low bit set). */
function reference(h: number, c: Context): { value: AmfValue } | null {
  if (h & 1) return null;
  const o = c.objects[h >> 1];
  if (!o) throw new AmfError(`AMF3 object reference ${h >> 1} out of range`);
  if (!o.done) throw new AmfError('AMF3 reference to an object that contains it');
  return o;
}

function value(r: ByteReader, c: Context, depth: number): AmfValue {
  if (depth > MAX_DEPTH) throw new AmfError('AMF nesting too deep');
  const marker = r.u8();
  switch (marker) {
    case M.UNDEFINED:
      return undefined;
    case M.NULL:
      return null;
    case M.FALSE:
      return false;
    case M.TRUE:
      return true;
    case M.INTEGER: {
      const v = u29(r);
      return v & 0x10000000 ? v - 0x20000000 : v; // 29-bit two's complement
    }
    case M.DOUBLE:
      return r.double();
    case M.STRING:
      return string(r, c);
    case M.XML_DOC:
    case M.XML: {
      const h = u29(r);
      const ref = reference(h, c);
      if (ref) return ref.value;
      const s = r.str(h >>> 1);
      c.add(c.objects, { value: s, done: true });
      return s;
    }
    case M.DATE: {
      const h = u29(r);
      const ref = reference(h, c);
      if (ref) return ref.value;
      const d = new Date(r.double());
      c.add(c.objects, { value: d, done: true });
      return d;
    }
    case M.ARRAY:
      return array(r, c, depth);
    case M.OBJECT:
      return object(r, c, depth);
    case M.VECTOR_INT:
    case M.VECTOR_UINT:
    case M.VECTOR_DOUBLE:
    case M.VECTOR_OBJECT:
      return vector(marker, r, c, depth);
    case M.BYTE_ARRAY:
      throw new AmfError('AMF3 ByteArray is not supported');
    case M.DICTIONARY:
      throw new AmfError('AMF3 Dictionary is not supported');
    default:
      throw new AmfError(`AMF3 type ${marker} is not supported`);
  }
}

function array(r: ByteReader, c: Context, depth: number): AmfValue {
  const h = u29(r);
  const ref = reference(h, c);
  if (ref) return ref.value;
  const dense = count(h >>> 1, 'array');
  const entry = { value: [] as AmfValue, done: false };
  c.add(c.objects, entry);
  // The associative part first (key/value pairs up to an empty key), then the dense values.
  const assoc: { [key: string]: AmfValue } = {};
  let keys = 0;
  for (;;) {
    const key = string(r, c);
    if (key === '') break;
    count(++keys, 'array');
    setProperty(assoc, key, value(r, c, depth + 1));
  }
  const items: AmfValue[] = [];
  for (let i = 0; i < dense; i++) items.push(value(r, c, depth + 1));
  if (keys) {
    items.forEach((v, i) => setProperty(assoc, String(i), v));
    entry.value = assoc;
  } else entry.value = items;
  entry.done = true;
  return entry.value;
}

function object(r: ByteReader, c: Context, depth: number): AmfValue {
  const h = u29(r);
  const ref = reference(h, c);
  if (ref) return ref.value;
  let traits: Traits;
  if ((h & 3) === 1) {
    const t = c.traits[h >>> 2];
    if (!t) throw new AmfError(`AMF3 traits reference ${h >>> 2} out of range`);
    traits = t;
  } else {
    if ((h & 7) === 7) throw new AmfError('AMF3 externalizable objects are not supported');
    const sealed = count(h >>> 4, 'object');
    string(r, c); // the class name: not used
    const members: string[] = [];
    for (let i = 0; i < sealed; i++) members.push(string(r, c));
    traits = { dynamic: (h & 8) !== 0, members };
    c.add(c.traits, traits);
  }
  const out: { [key: string]: AmfValue } = {};
  const entry = { value: out as AmfValue, done: false };
  c.add(c.objects, entry);
  for (const m of traits.members) setProperty(out, m, value(r, c, depth + 1));
  if (traits.dynamic) {
    for (let i = 0; ; i++) {
      const key = string(r, c);
      if (key === '') break;
      count(i + traits.members.length, 'object');
      setProperty(out, key, value(r, c, depth + 1));
    }
  }
  entry.done = true;
  return out;
}

function vector(marker: number, r: ByteReader, c: Context, depth: number): AmfValue {
  const h = u29(r);
  const ref = reference(h, c);
  if (ref) return ref.value;
  const n = count(h >>> 1, 'vector');
  r.u8(); // fixed-length flag
  const items: AmfValue[] = [];
  const entry = { value: items as AmfValue, done: false };
  c.add(c.objects, entry);
  if (marker === M.VECTOR_OBJECT) string(r, c); // the element type name
  for (let i = 0; i < n; i++) {
    if (marker === M.VECTOR_INT) items.push(r.i32());
    else if (marker === M.VECTOR_UINT) items.push(r.u32());
    else if (marker === M.VECTOR_DOUBLE) items.push(r.double());
    else items.push(value(r, c, depth + 1));
  }
  entry.done = true;
  return items;
}

/** One AMF3 value at the reader's position, in a context of its own; `depth` is the AMF0 nesting around it. */
export function readAmf3Value(r: ByteReader, depth: number): AmfValue {
  return value(r, new Context(), depth);
}
