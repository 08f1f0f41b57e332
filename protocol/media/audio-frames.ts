// MPEG audio frames (MP1/2/3, ISO 11172-3 and 13818-3 headers) and AAC in ADTS frames
// (ISO 13818-7): each frame's header read from bytes, with its length, so a file can be walked
// frame by frame and its format told. Pure: no I/O, nothing kept.

export interface AudioFrame {
  kind: 'mpeg' | 'adts';
  /** mp1, mp2, mp3 or aac */
  codec: 'mp1' | 'mp2' | 'mp3' | 'aac';
  /** MPEG audio: 1, 2 or 2.5; ADTS: 2 or 4. */
  version: number;
  rate: number;
  channels: number;
  /** The whole frame's length in bytes (header included). */
  length: number;
}

const MPEG_RATES: Record<number, number[]> = { 1: [44100, 48000, 32000], 2: [22050, 24000, 16000], 2.5: [11025, 12000, 8000] };
// kbit/s by [version 1 or 2 (2.5 too)][layer 1..3][index 1..14]
const BITRATES: Record<number, Record<number, number[]>> = {
  1: {
    1: [32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    2: [32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    3: [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  },
  2: {
    1: [32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    2: [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    3: [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  },
};
const ADTS_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
const ADTS_CHANNELS = [0, 1, 2, 3, 4, 5, 6, 8];

/** The frame whose header starts at `offset`, or null when there is no valid header there. */
export function readAudioFrame(buf: Buffer, offset = 0): AudioFrame | null {
  if (buf.length - offset < 4) return null;
  const b0 = buf[offset];
  const b1 = buf[offset + 1];
  const b2 = buf[offset + 2];
  const b3 = buf[offset + 3];
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return null;
  const layerBits = (b1 >> 1) & 3;
  if (layerBits === 0) {
    // ADTS: a 12-bit sync (0xFFF), layer 00.
    if ((b1 & 0xf0) !== 0xf0 || buf.length - offset < 7) return null;
    const rateIndex = (b2 >> 2) & 0x0f;
    const channelConfig = ((b2 & 1) << 2) | (b3 >> 6);
    const length = ((b3 & 3) << 11) | (buf[offset + 4] << 3) | (buf[offset + 5] >> 5);
    const headerLength = b1 & 1 ? 7 : 9;
    if (rateIndex >= ADTS_RATES.length || channelConfig === 0 || length < headerLength) return null;
    return { kind: 'adts', codec: 'aac', version: b1 & 0x08 ? 2 : 4, rate: ADTS_RATES[rateIndex], channels: ADTS_CHANNELS[channelConfig], length };
  }
  const versionBits = (b1 >> 3) & 3;
  if (versionBits === 1) return null; // reserved
  const version = versionBits === 3 ? 1 : versionBits === 2 ? 2 : 2.5;
  const layer = 4 - layerBits;
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return null; // free format or bad
  const kbps = BITRATES[version === 1 ? 1 : 2][layer][bitrateIndex - 1];
  const rate = MPEG_RATES[version][rateIndex];
  const padding = (b2 >> 1) & 1;
  let length: number;
  if (layer === 1) length = (Math.floor((12 * kbps * 1000) / rate) + padding) * 4;
  else if (layer === 3 && version !== 1) length = Math.floor((72 * kbps * 1000) / rate) + padding;
  else length = Math.floor((144 * kbps * 1000) / rate) + padding;
  const channels = (b3 >> 6) === 3 ? 1 : 2;
  return { kind: 'mpeg', codec: layer === 1 ? 'mp1' : layer === 2 ? 'mp2' : 'mp3', version, rate, channels, length };
}

/** True for a Xing, Info or VBRI frame (an encoder's index of the file, no audio): of no use mid-stream. */
export function isInfoFrame(buf: Buffer, f: AudioFrame, offset: number): boolean {
  if (f.kind !== 'mpeg') return false;
  const frame = buf.subarray(offset, offset + f.length).toString('latin1');
  const at = Math.max(frame.indexOf('Xing'), frame.indexOf('Info'));
  return (at > 0 && at <= 40) || frame.indexOf('VBRI') === 36;
}

/** The length of an ID3v2 tag at the start of `buf` (0 when there is none). */
export function id3v2Length(buf: Buffer): number {
  if (buf.length < 10 || buf.toString('latin1', 0, 3) !== 'ID3') return 0;
  const size = ((buf[6] & 0x7f) << 21) | ((buf[7] & 0x7f) << 14) | ((buf[8] & 0x7f) << 7) | (buf[9] & 0x7f);
  return 10 + size + (buf[5] & 0x10 ? 10 : 0);
}
