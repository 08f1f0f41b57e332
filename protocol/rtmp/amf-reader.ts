// What the AMF0 and AMF3 decoders share: the value type, the coded error, the limits, and a
// byte reader that checks every read against the end of its input. Pure; no encoding here.

import { FluxError, PROTOCOL_ERROR_CODES } from '../errors';

export type AmfValue = number | boolean | string | null | undefined | Date | AmfValue[] | { [key: string]: AmfValue };

/** A value that cannot be decoded (truncated, unknown type, past a limit): FLUX_RTMP_BAD_AMF. */
export class AmfError extends FluxError {
  constructor(message: string) {
    super(PROTOCOL_ERROR_CODES.RTMP_BAD_AMF, message);
    this.name = 'AmfError';
  }
}

/** Nesting depth, across AMF0 and the AMF3 values inside it. */
export const MAX_DEPTH = 16;
/** Items of one array or object, values of one message, entries of one AMF3 reference table. */
export const MAX_ITEMS = 4096;

export class ByteReader {
  pos = 0;
  constructor(readonly b: Buffer) {}
  need(n: number): void {
    if (this.pos + n > this.b.length) throw new AmfError(`AMF value truncated at byte ${this.pos}`);
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
  i32(): number {
    this.need(4);
    const v = this.b.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  double(): number {
    this.need(8);
    const v = this.b.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }
  str(n: number): string {
    this.need(n);
    const s = this.b.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}

/** Sets `key` on a decoded object unless it is one that would reach the prototype. */
export function setProperty(o: { [key: string]: AmfValue }, key: string, v: AmfValue): void {
  if (key !== '__proto__') o[key] = v;
}
