// What a stream or a file is, as far as a listener's decoder is concerned, and whether it can
// follow a switch: files GStreamer writes (Ogg/Vorbis, Ogg/Opus, MP3 with ID3v2 and Xing, AAC in
// ADTS) are read as what they are, their pages and frames walked; damaged or other files are
// refused with the reason; formats from caps as GStreamer's muxers and parsers write them.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GstCaps } from '../../../protocol/gst/caps';
import { MediaFileError, formatLabel, formatOfCaps, incompatibility, readMediaFile, unswitchable } from '../../../protocol/media/stream-format';
import { OGG_FLAGS, oggCrc, readOggPages } from '../../../protocol/media/ogg-pages';
import { readAudioFrame } from '../../../protocol/media/audio-frames';
import { describeGst, gstLaunch } from '../../helpers/gst';

describeGst('media files GStreamer writes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-media-'));
  const make = (name: string, chain: string): Buffer => {
    const file = path.join(dir, name);
    const r = gstLaunch(['-q', ...`audiotestsrc num-buffers=30 ! audio/x-raw,rate=44100,channels=2 ! audioconvert ! ${chain} ! filesink location=${file}`.split(' ')]);
    expect(r.status).toBe(0);
    return fs.readFileSync(file);
  };
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads Ogg/Vorbis and Ogg/Opus files whole, as one chain link each', () => {
    const vorbis = readMediaFile(make('a.ogg', 'vorbisenc ! oggmux'));
    expect(vorbis.format).toEqual({ container: 'ogg', codec: 'vorbis', rate: 44100, channels: 2, streams: 1 });
    expect(formatLabel(vorbis.format)).toBe('Ogg/vorbis 44100 Hz 2 ch');
    const pages = readOggPages(vorbis.bytes);
    expect(pages[0].flags & OGG_FLAGS.BOS).toBeTruthy();
    expect(pages[pages.length - 1].flags & OGG_FLAGS.EOS).toBeTruthy();
    expect(readMediaFile(make('a.opus', 'audioresample ! opusenc ! oggmux')).format).toMatchObject({ container: 'ogg', codec: 'opus', channels: 2 });
  });

  it('reads MP3 frames, leaving out the ID3v2 tag and the Xing frame', () => {
    const file = make('a.mp3', 'lamemp3enc ! xingmux ! id3v2mux');
    const r = readMediaFile(file);
    expect(r.format).toEqual({ container: 'mpeg-audio', codec: 'mp3', rate: 44100, channels: 2 });
    expect(file.toString('latin1', 0, 3)).toBe('ID3');
    expect(r.bytes.length).toBeLessThan(file.length);
    let frames = 0;
    for (let at = 0; at < r.bytes.length; frames++) at += readAudioFrame(r.bytes, at)!.length;
    expect(frames).toBeGreaterThan(20);
    expect(r.bytes.subarray(0, 200).toString('latin1')).not.toMatch(/Xing|Info/);
  });

  it('reads AAC in ADTS frames', () => {
    expect(readMediaFile(make('a.aac', 'voaacenc ! aacparse ! audio/mpeg,stream-format=adts')).format).toEqual({ container: 'adts', codec: 'aac', rate: 44100, channels: 2 });
  });

  it('refuses cut, damaged and other files, saying why', () => {
    const ogg = make('b.ogg', 'vorbisenc ! oggmux');
    expect(() => readMediaFile(ogg.subarray(0, ogg.length - 10))).toThrow(/not a complete Ogg file: .*cut short/);
    const bad = Buffer.from(ogg);
    bad[bad.length - 1] ^= 0xff;
    expect(() => readMediaFile(bad)).toThrow(/wrong CRC/);
    const noEos = Buffer.from(ogg);
    const pages = readOggPages(noEos);
    const last = pages[pages.length - 1];
    const at = noEos.length - last.bytes.length;
    noEos[at + 5] &= ~OGG_FLAGS.EOS;
    noEos.writeUInt32LE(0, at + 22);
    noEos.writeUInt32LE(oggCrc(noEos.subarray(at)), at + 22);
    expect(() => readMediaFile(noEos)).toThrow(/does not end its stream/);
    const mp3 = make('b.mp3', 'lamemp3enc');
    expect(() => readMediaFile(mp3.subarray(0, mp3.length - 7))).toThrow(/cut short/);
    expect(() => readMediaFile(make('a.webm', 'audioresample ! opusenc ! webmmux'))).toThrow(/WebM cannot be chained/);
    expect(() => readMediaFile(make('a.wav', 'wavenc'))).toThrow(MediaFileError);
    expect(() => readMediaFile(Buffer.alloc(0))).toThrow(/empty/);
  });
});

describe('stream formats from caps', () => {
  it('tells MP3, AAC, WebM and others apart, and which can switch mid-stream', () => {
    const mp3 = formatOfCaps(GstCaps.parse('audio/mpeg, mpegversion=(int)1, mpegaudioversion=(int)1, layer=(int)3, rate=(int)44100, channels=(int)2, parsed=(boolean)true'));
    expect(mp3).toEqual({ container: 'mpeg-audio', codec: 'mp3', rate: 44100, channels: 2 });
    const aac = formatOfCaps(GstCaps.parse('audio/mpeg, mpegversion=(int)4, stream-format=(string)adts, rate=(int)48000, channels=(int)2'));
    expect(aac).toMatchObject({ container: 'adts', codec: 'aac' });
    expect(unswitchable(mp3)).toBeNull();
    expect(unswitchable(formatOfCaps(GstCaps.parse('video/webm')))).toMatch(/WebM cannot be chained/);
    expect(unswitchable(formatOfCaps(GstCaps.parse('audio/x-wav')))).toMatch(/only Ogg, MP3 and AAC/);
    expect(incompatibility(mp3, aac)).toMatch(/aac 48000 Hz 2 ch is not mp3 44100 Hz 2 ch/);
    expect(incompatibility(mp3, { ...mp3, rate: 48000 })).toMatch(/another rate/);
    expect(incompatibility(mp3, { ...mp3 })).toBeNull();
  });
});

describeGst('Ogg formats from the caps oggmux writes', () => {
  it('reads the codec from the header pages in the streamheader, and counts the streams', () => {
    const caps = (pipeline: string) => {
      const r = gstLaunch(['-v', ...pipeline.split(' ')]);
      const line = /caps = (application\/ogg, streamheader=.*)$/m.exec(r.out)?.[1];
      return GstCaps.parse(line ?? '');
    };
    const one = formatOfCaps(caps('audiotestsrc num-buffers=5 ! audio/x-raw,rate=44100,channels=2 ! audioconvert ! vorbisenc ! oggmux ! fakesink'));
    expect(one).toEqual({ container: 'ogg', codec: 'vorbis', rate: 44100, channels: 2, streams: 1 });
    expect(unswitchable(one)).toBeNull();
    const two = formatOfCaps(caps('oggmux name=m ! fakesink audiotestsrc num-buffers=5 ! audioconvert ! vorbisenc ! queue ! m. videotestsrc num-buffers=5 ! theoraenc ! queue ! m.'));
    expect(two.streams).toBe(2);
    expect(unswitchable(two)).toMatch(/single-stream Ogg/);
  });
});
