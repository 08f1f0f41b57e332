// FLV audio and video tag bodies, as RTMP carries them, read into what a GDP stream needs:
// sequence headers become caps with codec_data (codec-config.ts), frames become buffers with PTS,
// DTS and the keyframe flag. Legacy tags (H.264; the common HEVC extension, CodecID 12; AAC) and
// Enhanced RTMP tags (FourCC: avc1, hvc1, av01, vp09, vp08; mp4a, Opus) are taken; of a multitrack
// tag, track 0 (the default track) is carried and the others named. Anything else is reported as
// unsupported, never guessed. Pure.

import { CodecConfig, aacConfig, av1Config, avcConfig, hevcConfig, opusConfig, vpxConfig } from './codec-config';
import { AUDIO_PACKET, ExPacket, VIDEO_PACKET, readExTag } from './flv-enhanced';

export type FlvVideo =
  | { kind: 'config'; caps: string; codec: string }
  | { kind: 'frame'; keyframe: boolean; ptsMs: number; dtsMs: number; nanos: number; data: Buffer }
  | { kind: 'end' }
  /** Something we do not carry but that does not stop the stream (other tracks, HDR metadata): tell once. */
  | { kind: 'ignored'; what: string }
  | { kind: 'unsupported'; what: string };

export type FlvAudio =
  | { kind: 'config'; caps: string; codec: string; rate: number }
  | { kind: 'frame'; nanos: number; data: Buffer }
  | { kind: 'end' }
  | { kind: 'ignored'; what: string }
  | { kind: 'unsupported'; what: string };

const VIDEO_CODECS: Record<number, string> = { 2: 'Sorenson H.263', 3: 'Screen video', 4: 'VP6', 5: 'VP6 alpha', 6: 'Screen video 2', 7: 'H.264', 12: 'HEVC' };
const AUDIO_CODECS: Record<number, string> = { 0: 'PCM', 1: 'ADPCM', 2: 'MP3', 3: 'PCM LE', 4: 'Nellymoser 16k', 5: 'Nellymoser 8k', 6: 'Nellymoser', 7: 'G.711 A-law', 8: 'G.711 mu-law', 10: 'AAC', 11: 'Speex', 14: 'MP3 8k', 15: 'device-specific' };
const FOURCC_NAMES: Record<string, string> = { avc1: 'H.264', hvc1: 'HEVC', av01: 'AV1', vp09: 'VP9', vp08: 'VP8', vvc1: 'VVC', mp4a: 'AAC', Opus: 'Opus', '.mp3': 'MP3', fLaC: 'FLAC', 'ac-3': 'AC-3', 'ec-3': 'E-AC-3' };
const SOUND_FORMAT_EX_HEADER = 9;

const named = (fourcc: string) => `${FOURCC_NAMES[fourcc] ?? 'unknown'} (${JSON.stringify(fourcc)})`;

/** The composition time offset (SI24, ms); nonsense offsets do not move frames by hours. */
function compositionTime(b: Buffer, at: number): number {
  const cts = b.readIntBE(at, 3);
  return cts < -10000 || cts > 10000 ? 0 : cts;
}

function config(c: CodecConfig): FlvVideo {
  return c.ok ? { kind: 'config', caps: c.caps, codec: c.codec } : { kind: 'unsupported', what: c.what };
}

/** Reads a video tag body with the message timestamp `dtsMs` (see timestamps.ts for a clock that does not wrap). */
export function readVideoTag(body: Buffer, dtsMs: number): FlvVideo[] {
  if (body.length < 1) return [];
  if (body[0] & 0x80) return readExVideo(body, dtsMs);
  const frameType = body[0] >> 4;
  const codec = body[0] & 0x0f;
  if (codec !== 7 && codec !== 12) return [{ kind: 'unsupported', what: `${VIDEO_CODECS[codec] ?? `codec ${codec}`} video` }];
  if (frameType === 5) return []; // video info/command frame
  if (body.length < 5) return [];
  const packetType = body[1];
  if (packetType === 0) return [config(codec === 7 ? avcConfig(body.subarray(5)) : hevcConfig(body.subarray(5)))];
  if (packetType === 2) return [{ kind: 'end' }];
  if (packetType !== 1) return [];
  return [{ kind: 'frame', keyframe: frameType === 1, ptsMs: dtsMs + compositionTime(body, 2), dtsMs, nanos: 0, data: body.subarray(5) }];
}

function readExVideo(body: Buffer, dtsMs: number): FlvVideo[] {
  const tag = readExTag(body, 'video');
  if (!tag.ok) return [{ kind: 'unsupported', what: tag.what }];
  const out: FlvVideo[] = [];
  for (const p of tag.packets) {
    if (p.trackId !== 0) out.push({ kind: 'ignored', what: `video track ${p.trackId} (${named(p.fourcc)}) of a multitrack stream: track 0 is carried` });
    else out.push(exVideoPacket(p, tag.frameType === 1, dtsMs, tag.nanos));
  }
  return out;
}

function exVideoPacket(p: ExPacket, keyframe: boolean, dtsMs: number, nanos: number): FlvVideo {
  const { fourcc, body } = p;
  const nalus = fourcc === 'avc1' || fourcc === 'hvc1';
  const known = nalus || fourcc === 'av01' || fourcc === 'vp09' || fourcc === 'vp08';
  if (!known) return { kind: 'unsupported', what: `${named(fourcc)} video` };
  switch (p.packetType) {
    case VIDEO_PACKET.SEQUENCE_START:
      if (fourcc === 'avc1') return config(avcConfig(body));
      if (fourcc === 'hvc1') return config(hevcConfig(body));
      if (fourcc === 'av01') return config(av1Config(body));
      return config(vpxConfig(fourcc as 'vp08' | 'vp09', body));
    case VIDEO_PACKET.MPEG2TS_SEQUENCE_START:
      return fourcc === 'av01' ? config(av1Config(null)) : { kind: 'unsupported', what: `an MPEG-2 TS sequence start for ${named(fourcc)}` };
    case VIDEO_PACKET.CODED_FRAMES:
      // Only the NAL unit codecs carry a composition time here (E-RTMP: AVC, HEVC, VVC).
      if (nalus) {
        if (body.length < 3) return { kind: 'unsupported', what: `a truncated ${named(fourcc)} frame` };
        return { kind: 'frame', keyframe, ptsMs: dtsMs + compositionTime(body, 0), dtsMs, nanos, data: body.subarray(3) };
      }
      return { kind: 'frame', keyframe, ptsMs: dtsMs, dtsMs, nanos, data: body };
    case VIDEO_PACKET.CODED_FRAMES_X:
      return { kind: 'frame', keyframe, ptsMs: dtsMs, dtsMs, nanos, data: body };
    case VIDEO_PACKET.SEQUENCE_END:
      return { kind: 'end' };
    case VIDEO_PACKET.METADATA:
      return { kind: 'ignored', what: 'video metadata (HDR colorInfo)' };
    default:
      return { kind: 'unsupported', what: `video packet type ${p.packetType}` };
  }
}

/** Reads an audio tag body. */
export function readAudioTag(body: Buffer): FlvAudio[] {
  if (body.length < 1) return []; // an empty audio message: silence (E-RTMP)
  const format = body[0] >> 4;
  if (format === SOUND_FORMAT_EX_HEADER) return readExAudio(body);
  if (format !== 10) return [{ kind: 'unsupported', what: `${AUDIO_CODECS[format] ?? `codec ${format}`} audio` }];
  if (body.length < 2) return [];
  if (body[1] === 0) return [audioConfig(aacConfig(body.subarray(2)))];
  return [{ kind: 'frame', nanos: 0, data: body.subarray(2) }];
}

function audioConfig(c: CodecConfig): FlvAudio {
  return c.ok ? { kind: 'config', caps: c.caps, codec: c.codec, rate: c.rate ?? 0 } : { kind: 'unsupported', what: c.what };
}

function readExAudio(body: Buffer): FlvAudio[] {
  const tag = readExTag(body, 'audio');
  if (!tag.ok) return [{ kind: 'unsupported', what: tag.what }];
  const out: FlvAudio[] = [];
  for (const p of tag.packets) {
    if (p.trackId !== 0) {
      out.push({ kind: 'ignored', what: `audio track ${p.trackId} (${named(p.fourcc)}) of a multitrack stream: track 0 is carried` });
      continue;
    }
    if (p.fourcc !== 'mp4a' && p.fourcc !== 'Opus') {
      out.push({ kind: 'unsupported', what: `${named(p.fourcc)} audio` });
      continue;
    }
    switch (p.packetType) {
      case AUDIO_PACKET.SEQUENCE_START:
        out.push(audioConfig(p.fourcc === 'mp4a' ? aacConfig(p.body) : opusConfig(p.body)));
        break;
      case AUDIO_PACKET.CODED_FRAMES:
        out.push({ kind: 'frame', nanos: tag.nanos, data: p.body });
        break;
      case AUDIO_PACKET.SEQUENCE_END:
        out.push({ kind: 'end' });
        break;
      case AUDIO_PACKET.MULTICHANNEL_CONFIG:
        out.push({ kind: 'ignored', what: 'an audio channel order (MultichannelConfig)' });
        break;
      default:
        out.push({ kind: 'unsupported', what: `audio packet type ${p.packetType}` });
    }
  }
  return out;
}
