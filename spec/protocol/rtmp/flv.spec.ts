// FLV tags as RTMP publishers send them: legacy H.264/AAC and the HEVC extension (CodecID 12),
// and Enhanced RTMP (E-RTMP v1/v2) by the ExVideoTagHeader/ExAudioTagHeader layout: FourCC,
// packet types, composition time in CodedFrames for NAL unit codecs only, ModEx nanosecond
// offsets, multitrack (track 0 carried); what is not carried is named, never guessed.

import { readAudioTag, readVideoTag } from '../../../protocol/rtmp/flv';
import { aacTag, exVideoTag } from '../../helpers/rtmp-wire';

const HVCC = Buffer.concat([Buffer.from([1]), Buffer.alloc(22, 0x11), Buffer.from([0xa0, 0, 1, 0, 2, 0x40, 0x01])]);
const AV1C = Buffer.from('81000c000a0b00000002af7fbfb80010', 'hex');
const seq = { keyframe: true, packetType: 0 };

describe('legacy FLV tags', () => {
  it('reads AVC configuration and frames, AAC configuration and frames, and names what it does not take', () => {
    expect(readVideoTag(Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), Buffer.from('01640028ffe1000467640028', 'hex')]), 0)).toEqual([
      { kind: 'config', codec: 'H.264', caps: 'video/x-h264, stream-format=(string)avc, alignment=(string)au, codec_data=(buffer)01640028ffe1000467640028' },
    ]);
    expect(readVideoTag(Buffer.from([0x27, 1, 0, 0, 80, 0, 0, 0, 1, 0x41]), 1000)).toMatchObject([{ kind: 'frame', keyframe: false, dtsMs: 1000, ptsMs: 1080 }]);
    expect(readVideoTag(Buffer.from([0x12, 0]), 0)).toEqual([{ kind: 'unsupported', what: 'Sorenson H.263 video' }]);
    expect(readVideoTag(Buffer.from([0x57, 0]), 0)).toEqual([]); // a command frame
    expect(readAudioTag(aacTag(0, Buffer.from([0x12, 0x10])))).toMatchObject([{ kind: 'config', codec: 'AAC', rate: 44100, caps: expect.stringMatching(/rate=\(int\)44100, channels=\(int\)2, codec_data=\(buffer\)1210$/) }]);
    expect(readAudioTag(aacTag(1, Buffer.from([0xde, 0xad])))).toEqual([{ kind: 'frame', nanos: 0, data: Buffer.from([0xde, 0xad]) }]);
    expect(readAudioTag(Buffer.from([0x2f, 0xff]))).toEqual([{ kind: 'unsupported', what: 'MP3 audio' }]);
    expect(readAudioTag(Buffer.alloc(0))).toEqual([]); // silence
  });

  it('reads the HEVC extension of the legacy header (CodecID 12) like AVC', () => {
    expect(readVideoTag(Buffer.concat([Buffer.from([0x1c, 0, 0, 0, 0]), HVCC]), 0)).toEqual([{ kind: 'config', codec: 'HEVC', caps: `video/x-h265, stream-format=(string)hvc1, alignment=(string)au, codec_data=(buffer)${HVCC.toString('hex')}` }]);
    expect(readVideoTag(Buffer.from([0x2c, 1, 0xff, 0xff, 0xd8, 0, 0, 0, 1, 2]), 500)).toMatchObject([{ kind: 'frame', keyframe: false, dtsMs: 500, ptsMs: 460 }]);
  });
});

describe('Enhanced RTMP video', () => {
  it('reads an hvc1 sequence start into H.265 caps with the HEVCDecoderConfigurationRecord as codec_data', () => {
    expect(readVideoTag(exVideoTag({ ...seq, fourcc: 'hvc1', body: HVCC }), 0)).toEqual([
      { kind: 'config', codec: 'HEVC', caps: `video/x-h265, stream-format=(string)hvc1, alignment=(string)au, codec_data=(buffer)${HVCC.toString('hex')}` },
    ]);
    expect(readVideoTag(exVideoTag({ ...seq, fourcc: 'hvc1', body: Buffer.from([0, 1, 2]) }), 0)).toEqual([{ kind: 'unsupported', what: 'an HEVC sequence start that is not an HEVCDecoderConfigurationRecord' }]);
  });

  it('takes the composition time of hvc1 and avc1 CodedFrames only; CodedFramesX and AV1/VP9 frames have none', () => {
    const nal = Buffer.from([0, 0, 0, 2, 0x26, 0x01]);
    expect(readVideoTag(exVideoTag({ keyframe: true, packetType: 1, fourcc: 'hvc1', cts: 80, body: nal }), 1000)).toEqual([{ kind: 'frame', keyframe: true, dtsMs: 1000, ptsMs: 1080, nanos: 0, data: nal }]);
    expect(readVideoTag(exVideoTag({ keyframe: false, packetType: 3, fourcc: 'hvc1', body: nal }), 1040)).toEqual([{ kind: 'frame', keyframe: false, dtsMs: 1040, ptsMs: 1040, nanos: 0, data: nal }]);
    expect(readVideoTag(exVideoTag({ keyframe: false, packetType: 1, fourcc: 'avc1', cts: -40, body: nal }), 1040)).toMatchObject([{ ptsMs: 1000, data: nal }]);
    // An AV1 temporal unit's first bytes are OBUs, not a composition time.
    const tu = Buffer.from([0x12, 0x00, 0x32, 0x05, 1, 2, 3, 4, 5]);
    expect(readVideoTag(exVideoTag({ keyframe: true, packetType: 1, fourcc: 'av01', body: tu }), 2000)).toEqual([{ kind: 'frame', keyframe: true, dtsMs: 2000, ptsMs: 2000, nanos: 0, data: tu }]);
    expect(readVideoTag(exVideoTag({ keyframe: false, packetType: 1, fourcc: 'vp09', body: tu }), 2040)).toMatchObject([{ keyframe: false, ptsMs: 2040, data: tu }]);
  });

  it('reads av01, vp09 and vp08 sequence starts into their caps', () => {
    expect(readVideoTag(exVideoTag({ ...seq, fourcc: 'av01', body: AV1C }), 0)).toEqual([
      { kind: 'config', codec: 'AV1', caps: `video/x-av1, stream-format=(string)obu-stream, alignment=(string)tu, codec_data=(buffer)${AV1C.toString('hex')}` },
    ]);
    // An AV1 MPEG-2 TS sequence start (the descriptor, no av1C): the sequence header comes in the stream.
    expect(readVideoTag(exVideoTag({ keyframe: true, packetType: 5, fourcc: 'av01', body: Buffer.from([0x80, 0x04, 0x81, 0, 0x0c, 0]) }), 0)).toEqual([{ kind: 'config', codec: 'AV1', caps: 'video/x-av1, stream-format=(string)obu-stream, alignment=(string)tu' }]);
    // vpcC as FFmpeg writes it (no box header) and with the FullBox version and flags.
    expect(readVideoTag(exVideoTag({ ...seq, fourcc: 'vp09', body: Buffer.from([2, 10, 0xa2, 1, 1, 1, 0, 0]) }), 0)).toEqual([{ kind: 'config', codec: 'VP9', caps: 'video/x-vp9, profile=(string)2' }]);
    expect(readVideoTag(exVideoTag({ ...seq, fourcc: 'vp09', body: Buffer.from([1, 0, 0, 0, 0, 10, 0x82, 1, 1, 1, 0, 0]) }), 0)).toEqual([{ kind: 'config', codec: 'VP9', caps: 'video/x-vp9, profile=(string)0' }]);
    expect(readVideoTag(exVideoTag({ ...seq, fourcc: 'vp08', body: Buffer.from([0, 10, 0x82, 1, 1, 1, 0, 0]) }), 0)).toEqual([{ kind: 'config', codec: 'VP8', caps: 'video/x-vp8' }]);
    expect(readVideoTag(exVideoTag({ ...seq, fourcc: 'av01', body: Buffer.from([0x01, 0, 0, 0]) }), 0)).toEqual([{ kind: 'unsupported', what: 'an AV1 sequence start that is not an AV1CodecConfigurationRecord' }]);
  });

  it('names the FourCCs and packet types it does not carry, and a header it cannot follow', () => {
    expect(readVideoTag(exVideoTag({ ...seq, fourcc: 'vvc1', body: Buffer.alloc(30) }), 0)).toEqual([{ kind: 'unsupported', what: 'VVC ("vvc1") video' }]);
    expect(readVideoTag(exVideoTag({ ...seq, fourcc: 'xyz0', body: Buffer.alloc(30) }), 0)).toEqual([{ kind: 'unsupported', what: 'unknown ("xyz0") video' }]);
    expect(readVideoTag(exVideoTag({ keyframe: true, packetType: 9, fourcc: 'hvc1', body: Buffer.alloc(3) }), 0)).toEqual([{ kind: 'unsupported', what: 'video packet type 9' }]);
    expect(readVideoTag(Buffer.from([0x91, 0x68, 0x76]), 0)).toEqual([{ kind: 'unsupported', what: 'a truncated enhanced video header' }]);
    expect(readVideoTag(exVideoTag({ keyframe: true, packetType: 2, fourcc: 'hvc1', body: Buffer.alloc(0) }), 0)).toEqual([{ kind: 'end' }]);
    expect(readVideoTag(exVideoTag({ keyframe: true, packetType: 4, fourcc: 'hvc1', body: Buffer.from([2, 0, 9]) }), 0)).toEqual([{ kind: 'ignored', what: 'video metadata (HDR colorInfo)' }]);
    expect(readVideoTag(Buffer.from([0xd1, 0x68, 0x76, 0x63, 0x31, 0x00]), 0)).toEqual([]); // a command frame: FrameType 5
  });

  it('applies a ModEx nanosecond offset and goes on to the packet type after it', () => {
    // ModEx (7), 3 bytes of data (size - 1 = 2): 500000 ns; then [TimestampOffsetNano (0) | CodedFramesX (3)].
    const tag = Buffer.concat([Buffer.from([0x97, 0x02, 0x07, 0xa1, 0x20, 0x03]), Buffer.from('hvc1', 'latin1'), Buffer.from([0, 0, 0, 1, 0x26])]);
    expect(readVideoTag(tag, 40)).toEqual([{ kind: 'frame', keyframe: true, dtsMs: 40, ptsMs: 40, nanos: 500000, data: Buffer.from([0, 0, 0, 1, 0x26]) }]);
  });

  it('carries track 0 of a multitrack tag and names the other tracks', () => {
    // Multitrack (6), ManyTracks (1) of CodedFramesX (3), hvc1: track 0 of 2 bytes, track 1 of 3 bytes.
    const many = Buffer.concat([Buffer.from([0x96, 0x13]), Buffer.from('hvc1', 'latin1'), Buffer.from([0, 0, 0, 2, 0xaa, 0xbb, 1, 0, 0, 3, 1, 2, 3])]);
    expect(readVideoTag(many, 100)).toEqual([
      { kind: 'frame', keyframe: true, dtsMs: 100, ptsMs: 100, nanos: 0, data: Buffer.from([0xaa, 0xbb]) },
      { kind: 'ignored', what: 'video track 1 (HEVC ("hvc1")) of a multitrack stream: track 0 is carried' },
    ]);
    // OneTrack (0) of SequenceStart (0), av01, track 0.
    const one = Buffer.concat([Buffer.from([0x96, 0x00]), Buffer.from('av01', 'latin1'), Buffer.from([0]), AV1C]);
    expect(readVideoTag(one, 0)).toMatchObject([{ kind: 'config', codec: 'AV1' }]);
    // ManyTracksManyCodecs (2) of CodedFrames (1): track 3 in vp09, track 0 in hvc1 (with its composition time).
    const mixed = Buffer.concat([Buffer.from([0x96, 0x21]), Buffer.from('vp09', 'latin1'), Buffer.from([3, 0, 0, 1, 9]), Buffer.from('hvc1', 'latin1'), Buffer.from([0, 0, 0, 4, 0, 0, 40, 7])]);
    expect(readVideoTag(mixed, 1000)).toEqual([
      { kind: 'ignored', what: 'video track 3 (VP9 ("vp09")) of a multitrack stream: track 0 is carried' },
      { kind: 'frame', keyframe: true, dtsMs: 1000, ptsMs: 1040, nanos: 0, data: Buffer.from([7]) },
    ]);
  });
});

describe('Enhanced RTMP audio', () => {
  const ex = (packetType: number, fourcc: string, body: Buffer) => Buffer.concat([Buffer.from([0x90 | packetType]), Buffer.from(fourcc, 'latin1'), body]);

  it('reads mp4a like AAC and Opus by its ID header; names other FourCCs', () => {
    expect(readAudioTag(ex(0, 'mp4a', Buffer.from([0x11, 0x90])))).toMatchObject([{ kind: 'config', codec: 'AAC', rate: 48000, caps: expect.stringMatching(/rate=\(int\)48000, channels=\(int\)2, codec_data=\(buffer\)1190$/) }]);
    expect(readAudioTag(ex(1, 'mp4a', Buffer.from([1, 2])))).toEqual([{ kind: 'frame', nanos: 0, data: Buffer.from([1, 2]) }]);
    const head = Buffer.concat([Buffer.from('OpusHead', 'latin1'), Buffer.from([1, 2, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0])]);
    expect(readAudioTag(ex(0, 'Opus', head))).toEqual([{ kind: 'config', codec: 'Opus', rate: 48000, caps: 'audio/x-opus, rate=(int)48000, channels=(int)2, channel-mapping-family=(int)0, stream-count=(int)1, coupled-count=(int)1' }]);
    expect(readAudioTag(ex(0, 'Opus', Buffer.concat([head.subarray(0, 18), Buffer.from([1])])))).toEqual([{ kind: 'unsupported', what: 'Opus with channel mapping family 1' }]);
    expect(readAudioTag(ex(0, 'fLaC', Buffer.alloc(10)))).toEqual([{ kind: 'unsupported', what: 'FLAC ("fLaC") audio' }]);
    expect(readAudioTag(ex(4, 'Opus', Buffer.from([0, 2, 3])))).toEqual([{ kind: 'ignored', what: 'an audio channel order (MultichannelConfig)' }]);
  });
});
