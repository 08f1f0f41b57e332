// From GDP buffers to RTP payloads, once per stream for every viewer (the packetization the
// WHEP streamer shares), pure. The caps say the codec: H.264 (Annex B byte-stream or AVC with
// codec_data; the SPS and PPS are put before every keyframe), VP8, or Opus. Timestamps come from
// the buffers' PTS on the codec's RTP clock (90 kHz video, 48 kHz Opus). Reordered frames
// (B-frames: DTS before PTS) cannot go over WebRTC: the first one is a FLUX_WEBRTC_B_FRAMES.

import { FluxError } from '../errors';
import { GstCaps } from '../gst/caps';
import { WEBRTC_ERROR_CODES as E } from '../webrtc/errors';
import { AvcConfig, NAL, nalType, nalUnitsAnnexB, nalUnitsAvc, packetizeH264, parseAvcConfig, profileLevelId } from './h264-rtp';
import { packetizeVp8 } from './vp8-rtp';

/** RTP payload bytes at most (1200 leaves room for RTP, SRTP and the tunnels of most paths). */
export const RTP_MTU = 1200;

export type RtpCodec = 'h264' | 'vp8' | 'opus';

export interface RtpFrame {
  payloads: Buffer[];
  /** On the codec's clock, wrapped to 32 bits later by whoever offsets it. */
  timestamp: number;
  keyframe: boolean;
}

export interface CodecInfo {
  codec: RtpCodec;
  clockRate: number;
  /** H.264: profile_idc as 2 hex digits, from the caps' profile or the SPS. */
  profileIdc?: string;
  /** H.264: profile-level-id, once an SPS was seen. */
  profileLevelId?: string;
}

const H264_PROFILES: Record<string, string> = { 'constrained-baseline': '42', baseline: '42', main: '4d', high: '64', extended: '58' };

/** The codec of a stream by its caps; throws FLUX_WEBRTC_UNSUPPORTED_CODEC for any other. */
export function codecOfCaps(text: string, kind: 'video' | 'audio'): CodecInfo & { avc: AvcConfig | null } {
  const s = GstCaps.parse(text).first;
  const media = s?.name ?? '';
  if (kind === 'video' && media === 'video/x-h264') {
    const format = s?.getString('stream-format') ?? 'byte-stream';
    let avc: AvcConfig | null = null;
    if (format === 'avc' || format === 'avc3') {
      const cd = s?.getBuffers('codec_data')?.[0];
      avc = cd ? parseAvcConfig(cd) : null;
      if (!avc) throw new FluxError(E.UNSUPPORTED_CODEC, 'H.264 in AVC format without a readable codec_data');
    } else if (format !== 'byte-stream') throw new FluxError(E.UNSUPPORTED_CODEC, `H.264 stream-format ${format} is not taken (byte-stream or avc)`);
    const profile = s?.getString('profile');
    const sps = avc?.sps[0];
    const pli = sps ? profileLevelId(sps) ?? undefined : undefined;
    return { codec: 'h264', clockRate: 90000, profileIdc: (profile && H264_PROFILES[profile]) ?? pli?.slice(0, 2), profileLevelId: pli, avc };
  }
  if (kind === 'video' && media === 'video/x-vp8') return { codec: 'vp8', clockRate: 90000, avc: null };
  if (kind === 'audio' && media === 'audio/x-opus') return { codec: 'opus', clockRate: 48000, avc: null };
  const takes = kind === 'video' ? 'H.264 (without B-frames) or VP8' : 'Opus';
  throw new FluxError(E.UNSUPPORTED_CODEC, `the ${kind} eater takes ${takes}, not ${media || 'a stream without caps'}`);
}

/** One stream's packetizer; `caps()` at every caps change, then `buffer()` for each buffer. */
export class RtpPacketizer {
  info: CodecInfo | null = null;
  private avc: AvcConfig | null = null;
  private sps: Buffer | null = null;
  private pps: Buffer | null = null;

  constructor(
    readonly kind: 'video' | 'audio',
    private readonly mtu = RTP_MTU,
  ) {}

  caps(text: string): CodecInfo {
    const c = codecOfCaps(text, this.kind);
    this.avc = c.avc;
    if (c.avc) {
      this.sps = c.avc.sps[0] ?? null;
      this.pps = c.avc.pps[0] ?? null;
    }
    this.info = { codec: c.codec, clockRate: c.clockRate, profileIdc: c.profileIdc, profileLevelId: c.profileLevelId };
    return this.info;
  }

  /** RTP payloads of one buffer (null before caps, or for an empty one). Throws FLUX_WEBRTC_B_FRAMES on reordered video. */
  buffer(data: Buffer, ptsNs: bigint | null, dtsNs: bigint | null, keyframe: boolean): RtpFrame | null {
    const info = this.info;
    if (!info || data.length === 0 || ptsNs === null) return null;
    if (this.kind === 'video' && dtsNs !== null && dtsNs !== ptsNs) {
      throw new FluxError(E.B_FRAMES, 'the video has B-frames (DTS differs from PTS), which WebRTC cannot carry: give its h264-encoder tune: zerolatency (the default), or profile: baseline');
    }
    const timestamp = Number((ptsNs * BigInt(info.clockRate)) / 1000000000n);
    if (info.codec === 'opus') return { payloads: [data], timestamp, keyframe: true };
    if (info.codec === 'vp8') return { payloads: packetizeVp8(data, this.mtu), timestamp, keyframe: data.length > 0 && (data[0] & 1) === 0 };
    const nals = this.avc ? nalUnitsAvc(data, this.avc.lengthSize) : nalUnitsAnnexB(data);
    if (!nals?.length) return null;
    let hasIdr = false;
    let hasSps = false;
    for (const n of nals) {
      const t = nalType(n);
      if (t === NAL.SPS) {
        hasSps = true;
        this.sps = n;
        const pli = profileLevelId(n);
        if (pli) info.profileLevelId = pli;
        info.profileIdc ??= pli?.slice(0, 2);
      } else if (t === NAL.PPS) this.pps = n;
      else if (t === NAL.IDR) hasIdr = true;
    }
    // Every keyframe carries its parameter sets, so a viewer can start at any of them.
    const withHeaders = hasIdr && !hasSps && this.sps && this.pps ? [this.sps, this.pps, ...nals] : nals;
    return { payloads: packetizeH264(withHeaders, this.mtu), timestamp, keyframe: hasIdr || (keyframe && hasSps) };
  }
}
