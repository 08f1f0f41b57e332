// Ogg pages read from captured bytes (RFC 3533): enough to check what listeners got (page
// sequence numbers per logical stream) and to pace a file's pages as a source would send them.

export interface OggPage {
  /** Offset of the page in the bytes. */
  at: number;
  bytes: Buffer;
  serial: number;
  sequence: number;
  granule: bigint;
  bos: boolean;
  eos: boolean;
}

/** Every complete page from the first capture pattern on (a partial last page is left out). */
export function oggPages(data: Buffer): OggPage[] {
  const pages: OggPage[] = [];
  let at = data.indexOf('OggS', 0, 'latin1');
  while (at >= 0 && at + 27 <= data.length) {
    const segments = data[at + 26];
    if (at + 27 + segments > data.length) break;
    let body = 0;
    for (let i = 0; i < segments; i++) body += data[at + 27 + i];
    const end = at + 27 + segments + body;
    if (end > data.length) break;
    pages.push({
      at,
      bytes: data.subarray(at, end),
      serial: data.readUInt32LE(at + 14),
      sequence: data.readUInt32LE(at + 18),
      granule: data.readBigInt64LE(at + 6),
      bos: (data[at + 5] & 0x02) !== 0,
      eos: (data[at + 5] & 0x04) !== 0,
    });
    if (data.subarray(end, end + 4).toString('latin1') !== 'OggS') break;
    at = end;
  }
  return pages;
}

/** Pages whose sequence number is not exactly one more than the previous page of their stream. */
export function sequenceBreaks(pages: OggPage[]): Array<{ serial: number; after: number; got: number }> {
  const last = new Map<number, number>();
  const out: Array<{ serial: number; after: number; got: number }> = [];
  for (const p of pages) {
    const prev = last.get(p.serial);
    if (prev !== undefined && p.sequence !== prev + 1) out.push({ serial: p.serial, after: prev, got: p.sequence });
    last.set(p.serial, p.sequence);
  }
  return out;
}
