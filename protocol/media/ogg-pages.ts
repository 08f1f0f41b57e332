// Ogg pages (RFC 3533): the page header with its CRC, read from bytes, and the codec of a
// logical stream from the identification header in its first (BOS) page. Pure and bounded: a
// page is at most 65,307 bytes; nothing here does I/O. Used to tell what an Ogg stream carries
// (an intro file, a stream's header pages) before two Ogg streams are chained.

export const OGG_FLAGS = { CONTINUED: 0x01, BOS: 0x02, EOS: 0x04 } as const;

export interface OggPage {
  flags: number;
  granule: bigint;
  serial: number;
  sequence: number;
  /** The whole page (header and body). */
  bytes: Buffer;
  /** The page body (packet data). */
  body: Buffer;
}

/** What the identification header of a logical stream says. */
export interface OggCodec {
  codec: 'vorbis' | 'opus' | 'flac' | 'speex' | 'theora' | 'unknown';
  rate?: number;
  channels?: number;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** The Ogg CRC-32 (polynomial 0x04c11db7, not reflected, initial 0) of a page whose CRC field is zero. */
export function oggCrc(bytes: Buffer): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) {
    // The CRC field (bytes 22-25) counts as zero.
    const b = i >= 22 && i < 26 ? 0 : bytes[i];
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) & 0xff) ^ b]) >>> 0;
  }
  return crc;
}

export class OggPageError extends Error {}

/**
 * The page at `offset`, or an error saying why there is none (bad magic, version, a short page,
 * a wrong CRC). Never reads past `buf`.
 */
export function readOggPage(buf: Buffer, offset = 0): OggPage {
  if (buf.length - offset < 27) throw new OggPageError(`a page header needs 27 bytes, ${buf.length - offset} left at ${offset}`);
  if (buf.toString('latin1', offset, offset + 4) !== 'OggS') throw new OggPageError(`no Ogg page at byte ${offset} (no "OggS")`);
  if (buf[offset + 4] !== 0) throw new OggPageError(`Ogg version ${buf[offset + 4]} at byte ${offset} (only 0 exists)`);
  const segments = buf[offset + 26];
  const headerLength = 27 + segments;
  if (buf.length - offset < headerLength) throw new OggPageError(`the page at byte ${offset} is cut short in its segment table`);
  let bodyLength = 0;
  for (let i = 0; i < segments; i++) bodyLength += buf[offset + 27 + i];
  const end = offset + headerLength + bodyLength;
  if (end > buf.length) throw new OggPageError(`the page at byte ${offset} is cut short (${end - buf.length} bytes missing)`);
  const bytes = buf.subarray(offset, end);
  const crc = bytes.readUInt32LE(22);
  if (oggCrc(bytes) !== crc) throw new OggPageError(`the page at byte ${offset} has a wrong CRC`);
  return {
    flags: bytes[5],
    granule: bytes.readBigInt64LE(6),
    serial: bytes.readUInt32LE(14),
    sequence: bytes.readUInt32LE(18),
    bytes,
    body: bytes.subarray(headerLength),
  };
}

/** Every page of `buf`, which must be whole pages and nothing else. */
export function readOggPages(buf: Buffer): OggPage[] {
  const pages: OggPage[] = [];
  for (let at = 0; at < buf.length; ) {
    const p = readOggPage(buf, at);
    pages.push(p);
    at += p.bytes.length;
  }
  return pages;
}

/** The codec of a logical stream, from the first packet of its BOS page. */
export function oggCodec(bosBody: Buffer): OggCodec {
  const b = bosBody;
  const starts = (magic: string) => b.length >= magic.length && b.toString('latin1', 0, magic.length) === magic;
  if (starts('\x01vorbis') && b.length >= 16) return { codec: 'vorbis', channels: b[11], rate: b.readUInt32LE(12) };
  // Opus always decodes at 48 kHz: the header's rate is only the input's, so it is not compared.
  if (starts('OpusHead') && b.length >= 10) return { codec: 'opus', channels: b[9] };
  if (starts('\x7fFLAC') && b.length >= 30) return { codec: 'flac', rate: (b[27] << 12) | (b[28] << 4) | (b[29] >> 4), channels: ((b[29] >> 1) & 7) + 1 };
  if (starts('Speex   ') && b.length >= 52) return { codec: 'speex', rate: b.readUInt32LE(36), channels: b.readUInt32LE(48) };
  if (starts('\x80theora')) return { codec: 'theora' };
  return { codec: 'unknown' };
}
