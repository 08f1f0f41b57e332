import fc from 'fast-check';
import { crc16, crc16Update } from '../../../protocol/gdp/crc';

function bytewise(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc ^ 0xffff;
}

describe('GDP CRC-16', () => {
  it('has the catalogued check value of CRC-16/GENIBUS', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0xd64e);
    expect(crc16(Buffer.alloc(0))).toBe(0);
  });

  it('equals the bit-by-bit definition for any bytes and any split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (bytes, cut) => {
        const at = bytes.length ? cut % bytes.length : 0;
        expect(crc16(bytes)).toBe(bytewise(bytes));
        expect(crc16Update(crc16Update(0xffff, bytes, 0, at), bytes, at) ^ 0xffff).toBe(bytewise(bytes));
      }),
    );
  });
});
