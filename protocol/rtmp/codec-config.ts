// The codec configuration records an RTMP publisher sends before its frames, made into the
// GStreamer caps its GDP stream starts with: AVCDecoderConfigurationRecord (H.264),
// HEVCDecoderConfigurationRecord (H.265, as hvc1), AV1CodecConfigurationRecord, VPCodecConfigurationRecord
// (VP8/VP9), AudioSpecificConfig (AAC) and the Opus ID header. Each is checked enough to refuse
// what is not one; its bytes go on as codec_data. Pure.

export type CodecConfig = { ok: true; caps: string; codec: string; rate?: number } | { ok: false; what: string };

const hex = (b: Buffer) => b.toString('hex');

/** ISO 14496-15 5.3.3.1: configurationVersion 1, profile, compatibility, level, lengthSizeMinusOne, SPS... */
export function avcConfig(record: Buffer): CodecConfig {
  if (record.length < 7 || record[0] !== 1) return { ok: false, what: 'an AVC sequence header that is not an AVCDecoderConfigurationRecord' };
  return { ok: true, codec: 'H.264', caps: `video/x-h264, stream-format=(string)avc, alignment=(string)au, codec_data=(buffer)${hex(record)}` };
}

/** ISO 14496-15 8.3.3.1: configurationVersion 1, 22 bytes of profile/level/format fields, then the VPS/SPS/PPS arrays. */
export function hevcConfig(record: Buffer): CodecConfig {
  if (record.length < 23 || record[0] !== 1) return { ok: false, what: 'an HEVC sequence start that is not an HEVCDecoderConfigurationRecord' };
  return { ok: true, codec: 'HEVC', caps: `video/x-h265, stream-format=(string)hvc1, alignment=(string)au, codec_data=(buffer)${hex(record)}` };
}

/**
 * AV1-ISOBMFF 2.3: marker 1 + version 1 (0x81), profile/level, tier/depth/subsampling, delay,
 * then configOBUs. Frames are OBUs of one temporal unit each (E-RTMP: "a single temporal unit").
 * A publisher that sends the MPEG-2 TS descriptor instead (no record) repeats the sequence header
 * in the stream, which av1parse reads: caps without codec_data.
 */
export function av1Config(record: Buffer | null): CodecConfig {
  const base = 'video/x-av1, stream-format=(string)obu-stream, alignment=(string)tu';
  if (record === null) return { ok: true, codec: 'AV1', caps: base };
  if (record.length < 4 || record[0] !== 0x81) return { ok: false, what: 'an AV1 sequence start that is not an AV1CodecConfigurationRecord' };
  return { ok: true, codec: 'AV1', caps: `${base}, codec_data=(buffer)${hex(record)}` };
}

/**
 * VP Codec ISO Media File Format 2.2: profile, level, bitDepth/chromaSubsampling/fullRange,
 * colour primaries, transfer, matrix, codecIntializationDataSize (16 bits, 0 for VP8/VP9), with
 * or without the 4 bytes of version and flags its box has (publishers send either).
 */
export function vpxConfig(fourcc: 'vp08' | 'vp09', record: Buffer): CodecConfig {
  const codec = fourcc === 'vp09' ? 'VP9' : 'VP8';
  const media = fourcc === 'vp09' ? 'video/x-vp9' : 'video/x-vp8';
  const bare = record.length >= 8 && record.readUInt16BE(6) === record.length - 8;
  const boxed = !bare && record.length >= 12 && record[0] === 1 && record.readUIntBE(1, 3) === 0 && record.readUInt16BE(10) === record.length - 12;
  if (!bare && !boxed) return { ok: false, what: `a ${codec} sequence start that is not a VPCodecConfigurationRecord` };
  const profile = record[boxed ? 4 : 0];
  if (fourcc === 'vp09' && profile > 3) return { ok: false, what: `VP9 profile ${profile}` };
  return { ok: true, codec, caps: fourcc === 'vp09' ? `${media}, profile=(string)${profile}` : media };
}

const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** ISO 14496-3 1.6.2.1 AudioSpecificConfig: object type, rate index, channel configuration. */
export function aacConfig(asc: Buffer): CodecConfig {
  if (asc.length < 2) return { ok: false, what: 'a short AudioSpecificConfig' };
  const freqIndex = ((asc[0] & 0x07) << 1) | (asc[1] >> 7);
  const channels = (asc[1] >> 3) & 0x0f;
  const rate = AAC_RATES[freqIndex];
  if (!rate || !channels) return { ok: false, what: 'an AAC configuration with an explicit rate or channel layout' };
  return { ok: true, codec: 'AAC', rate, caps: `audio/mpeg, mpegversion=(int)4, stream-format=(string)raw, framed=(boolean)true, rate=(int)${rate}, channels=(int)${channels}, codec_data=(buffer)${hex(asc)}` };
}

/**
 * RFC 7845 5.1 ID header: "OpusHead", version, channels, pre-skip, input rate, gain, mapping
 * family. Family 0 (mono or stereo, one stream) is taken; an empty header means stereo (E-RTMP).
 */
export function opusConfig(head: Buffer): CodecConfig {
  let channels = 2;
  if (head.length) {
    if (head.length < 19 || head.toString('latin1', 0, 8) !== 'OpusHead') return { ok: false, what: 'an Opus sequence start that is not an Opus ID header' };
    if (head[18] !== 0) return { ok: false, what: `Opus with channel mapping family ${head[18]}` };
    channels = head[9];
    if (channels < 1 || channels > 2) return { ok: false, what: `Opus family 0 with ${channels} channels` };
  }
  return { ok: true, codec: 'Opus', rate: 48000, caps: `audio/x-opus, rate=(int)48000, channels=(int)${channels}, channel-mapping-family=(int)0, stream-count=(int)1, coupled-count=(int)${channels - 1}` };
}
