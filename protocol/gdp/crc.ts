// The CRC that GDP uses: CRC-16/GENIBUS (poly 0x1021, MSB first, init 0xffff, xorout 0xffff),
// table driven. Check value: crc16(Buffer.from('123456789')) === 0xd64e.

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 8;
  for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  TABLE[i] = c;
}

export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ TABLE[((crc >> 8) ^ bytes[i]) & 0xff]) & 0xffff;
  return crc ^ 0xffff;
}
