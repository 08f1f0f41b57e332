// FLV audio and video tag bodies, as RTMP carries them, read into what a GDP stream needs:
// H.264 (AVC) sequence headers become caps with codec_data, NAL units buffers with PTS/DTS and
// the keyframe flag; AAC AudioSpecificConfig becomes caps (rate and channels read from it), raw
// AAC frames buffers. Pure; other codecs are reported, not guessed.

export type FlvVideo =
  | { kind: 'config'; caps: string }
  | { kind: 'frame'; keyframe: boolean; ptsMs: number; dtsMs: number; data: Buffer }
  | { kind: 'end' }
  | { kind: 'unsupported'; what: string };

export type FlvAudio =
  | { kind: 'config'; caps: string; rate: number }
  | { kind: 'frame'; data: Buffer }
  | { kind: 'unsupported'; what: string };

const VIDEO_CODECS: Record<number, string> = { 2: 'Sorenson H.263', 3: 'Screen video', 4: 'VP6', 5: 'VP6 alpha', 6: 'Screen video 2', 7: 'H.264', 12: 'HEVC' };
const AUDIO_CODECS: Record<number, string> = { 0: 'PCM', 1: 'ADPCM', 2: 'MP3', 3: 'PCM LE', 4: 'Nellymoser 16k', 5: 'Nellymoser 8k', 6: 'Nellymoser', 7: 'G.711 A-law', 8: 'G.711 mu-law', 10: 'AAC', 11: 'Speex', 14: 'MP3 8k' };
const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** Reads a video tag body with the message timestamp `dtsMs`. */
export function readVideoTag(body: Buffer, dtsMs: number): FlvVideo | null {
  if (body.length < 1) return null;
  if (body[0] & 0x80) return { kind: 'unsupported', what: 'enhanced RTMP video (HEVC, AV1, VP9)' };
  const frameType = body[0] >> 4;
  const codec = body[0] & 0x0f;
  if (codec !== 7) return { kind: 'unsupported', what: `${VIDEO_CODECS[codec] ?? `codec ${codec}`} video` };
  if (frameType === 5) return null; // video info/command frame
  if (body.length < 5) return null;
  const packetType = body[1];
  let cts = body.readIntBE(2, 3);
  if (packetType === 0) {
    const record = body.subarray(5);
    if (record.length < 7 || record[0] !== 1) return { kind: 'unsupported', what: 'an AVC sequence header that is not an AVCDecoderConfigurationRecord' };
    return { kind: 'config', caps: `video/x-h264, stream-format=(string)avc, alignment=(string)au, codec_data=(buffer)${record.toString('hex')}` };
  }
  if (packetType === 2) return { kind: 'end' };
  if (packetType !== 1) return null;
  if (cts < -10000 || cts > 10000) cts = 0; // nonsense offsets do not move frames by hours
  return { kind: 'frame', keyframe: frameType === 1, ptsMs: dtsMs + cts, dtsMs, data: body.subarray(5) };
}

/** Reads an audio tag body. */
export function readAudioTag(body: Buffer): FlvAudio | null {
  if (body.length < 2) return null;
  const format = body[0] >> 4;
  if (format !== 10) return { kind: 'unsupported', what: `${AUDIO_CODECS[format] ?? `codec ${format}`} audio` };
  if (body[1] === 0) {
    const asc = body.subarray(2);
    if (asc.length < 2) return { kind: 'unsupported', what: 'a short AudioSpecificConfig' };
    const freqIndex = ((asc[0] & 0x07) << 1) | (asc[1] >> 7);
    const channels = (asc[1] >> 3) & 0x0f;
    const rate = AAC_RATES[freqIndex];
    if (!rate || !channels) return { kind: 'unsupported', what: 'an AAC configuration with an explicit rate or channel layout' };
    return { kind: 'config', rate, caps: `audio/mpeg, mpegversion=(int)4, stream-format=(string)raw, framed=(boolean)true, rate=(int)${rate}, channels=(int)${channels}, codec_data=(buffer)${asc.toString('hex')}` };
  }
  return { kind: 'frame', data: body.subarray(2) };
}
