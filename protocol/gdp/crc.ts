// The CRC that GDP uses: CRC-16/GENIBUS (poly 0x1021, MSB first, init 0xffff, xorout 0xffff).
// Check value: crc16(Buffer.from('123456789')) === 0xd64e.
// GStreamer steps one byte at a time; we use slicing-by-8 (same result): S[k][b] is the register
// contribution of byte b followed by k zero bytes, so by linearity eight bytes fold into one
// XOR of eight lookups in 256-entry tables that stay in L1 cache.

const T8 = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 8;
  for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  T8[i] = c;
}
const S: Uint16Array[] = [];
for (let k = 0; k < 8; k++) S.push(new Uint16Array(256));
for (let b = 0; b < 256; b++) {
  let c = T8[b];
  S[0][b] = c;
  for (let k = 1; k < 8; k++) {
    c = ((c << 8) ^ T8[c >> 8]) & 0xffff;
    S[k][b] = c;
  }
}
const [S0, S1, S2, S3, S4, S5, S6, S7] = S;

/** Feeds bytes[start..end) to a CRC register (start with 0xffff, finish with ^ 0xffff). */
export function crc16Update(crc: number, b: Uint8Array, start = 0, end = b.length): number {
  let i = start;
  const end8 = end - 7;
  for (; i < end8; i += 8) {
    crc =
      S7[(crc >> 8) ^ b[i]] ^ S6[(crc & 0xff) ^ b[i + 1]] ^ S5[b[i + 2]] ^ S4[b[i + 3]] ^
      S3[b[i + 4]] ^ S2[b[i + 5]] ^ S1[b[i + 6]] ^ S0[b[i + 7]];
  }
  for (; i < end; i++) crc = ((crc << 8) ^ T8[(crc >> 8) ^ b[i]]) & 0xffff;
  return crc;
}

export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return crc16Update(0xffff, bytes, start, end) ^ 0xffff;
}
