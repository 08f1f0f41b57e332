// Component types whose work is a GStreamer pipeline: the generic pipeline-producer,
// -converter and -consumer (a gst-launch description with @eater:NAME@ / @feeder:NAME@
// placeholders), and typed ones with a property schema each: test sources, encoders, muxers.

import { z } from 'zod';
import { ComponentType, defineComponentType } from '../component-type';
import { elementsOf, PipelineComponent, PipelineLayout } from './pipeline-component';

const EATER = (fd: number) => `fdsrc fd=${fd} ! gdpdepay`;
const FEEDER = (fd: number) => `gdppay ! fdsink fd=${fd} sync=false`;

/**
 * Replaces placeholders with fd links: `@eater:NAME@` (first feed of eater NAME),
 * `@eater:NAME:I@` (its I-th feed), `@feeder:NAME@`. With a single eater feed and no eater
 * placeholder, the input is put first; with a single feeder and no feeder placeholder, last.
 */
export function layoutDescription(description: string, eaters: ReadonlyMap<string, readonly string[]>, feeders: readonly string[]): PipelineLayout {
  const eaterFds = new Map<string, number>();
  const feederFds = new Map<string, number>();
  let fd = 3;
  const feeds: Array<[string, string, number]> = [];
  for (const [name, list] of eaters) list.forEach((feed, i) => feeds.push([name, feed, i]));
  for (const [, feed] of feeds) eaterFds.set(feed, fd++);
  for (const f of feeders) feederFds.set(f, fd++);
  let d = description;
  const hasEaterPlaceholder = /@eater:/.test(d);
  const hasFeederPlaceholder = /@feeder:/.test(d);
  for (const [name, feed, i] of feeds) {
    d = d.split(`@eater:${name}:${i}@`).join(EATER(eaterFds.get(feed) as number));
    if (i === 0) d = d.split(`@eater:${name}@`).join(EATER(eaterFds.get(feed) as number));
  }
  for (const f of feeders) d = d.split(`@feeder:${f}@`).join(FEEDER(feederFds.get(f) as number));
  if (feeds.length === 1 && !hasEaterPlaceholder) d = `${EATER(eaterFds.get(feeds[0][1]) as number)} ! ${d}`;
  if (feeders.length === 1 && !hasFeederPlaceholder) d = `${d} ! ${FEEDER(feederFds.get(feeders[0]) as number)}`;
  const left = /@(eater|feeder):[^@]*@/.exec(d);
  if (left) throw new Error(`unknown placeholder ${left[0]} in the pipeline`);
  return { description: d, eaterFds, feederFds };
}

class DescribedPipeline<P> extends PipelineComponent<P> {
  constructor(name: string, props: P, feeders: readonly string[], private readonly describe: (p: P) => string, encodesVideo = false) {
    super(name, props, feeders);
    this.encodesVideo = encodesVideo;
  }
  protected layout(eaters: ReadonlyMap<string, readonly string[]>, feeders: readonly string[]): PipelineLayout {
    return layoutDescription(this.describe(this.properties), eaters, feeders);
  }
}

/** Parsers muxers need in front of them (gdpdepay ! oggmux does not negotiate raw Vorbis packets). */
const PARSERS: Record<string, string> = {
  'audio/x-vorbis': 'vorbisparse', 'audio/x-opus': 'opusparse', 'video/x-theora': 'theoraparse', 'audio/x-flac': 'flacparse',
  'video/x-h264': 'h264parse', 'video/x-h265': 'h265parse',
};

/**
 * A muxer: every feed of its `default` eater into one muxer element. The child starts once all
 * feeds flow, so each input gets the parser its caps need, and every muxer pad exists from the
 * start (a pad requested later would arrive after the muxer wrote its headers).
 */
export function muxerLayout(muxer: string, feeds: readonly string[], caps: ReadonlyMap<string, string>): PipelineLayout {
  const eaterFds = new Map<string, number>();
  const parts = feeds.map((feed, i) => {
    eaterFds.set(feed, 3 + i);
    const media = (caps.get(feed) ?? '').split(/[,;]/)[0].trim();
    const parser = PARSERS[media] ? ` ! ${PARSERS[media]}` : media ? '' : ' ! parsebin';
    return `${EATER(3 + i)} ! queue max-size-time=3000000000${parser} ! mux.`;
  });
  const out = 3 + feeds.length;
  return { description: `${muxer} name=mux ! ${FEEDER(out)} ${parts.join(' ')}`, eaterFds, feederFds: new Map([['default', out]]) };
}

class MuxerPipeline<P> extends PipelineComponent<P> {
  constructor(name: string, props: P, private readonly muxer: string) {
    super(name, props, ['default']);
  }
  protected layout(eaters: ReadonlyMap<string, readonly string[]>, _feeders: readonly string[], caps: ReadonlyMap<string, string>): PipelineLayout {
    return muxerLayout(this.muxer, eaters.get('default') ?? [], caps);
  }
}

/**
 * A type whose pipeline is a description made from its properties. Its GStreamer elements are
 * those of that description at the default properties, plus `alsoRuns` (what decodebin picks, or
 * what other properties bring in).
 */
function describedType<S extends z.ZodType>(t: {
  type: string; description: string; properties: S; eaters: readonly string[]; feeders: readonly string[];
  describe: (p: z.infer<S>) => string; alsoRuns?: readonly string[];
  /** A video encoder (a GstVideoEncoder): keyframe requests restart it (see protocol/gst/key-unit.ts). */
  encodesVideo?: boolean;
}): ComponentType<S> {
  const layout = layoutDescription(t.describe(t.properties.parse({})), new Map(t.eaters.map((e) => [e, [`/flow/upstream:${e}`]])), t.feeders);
  return defineComponentType({
    type: t.type, description: t.description, properties: t.properties, eaters: t.eaters, feeders: t.feeders,
    gstElements: [...new Set([...elementsOf(layout.description), ...(t.alsoRuns ?? [])])],
    create: (name, p) => new DescribedPipeline(name, p, t.feeders, t.describe, t.encodesVideo),
  });
}

/** A muxer type: any parser of PARSERS (or parsebin) may go in front of the muxer element. */
function muxerType(t: { type: string; description: string; muxer: string }): ComponentType<typeof muxProps> {
  const layout = muxerLayout(t.muxer, ['/flow/upstream:default'], new Map());
  return defineComponentType({
    type: t.type, description: t.description, properties: muxProps, eaters: ['default'], feeders: ['default'],
    gstElements: [...new Set([...elementsOf(layout.description), 'parsebin', ...Object.values(PARSERS)])],
    create: (name, p) => new MuxerPipeline(name, p, t.muxer),
  });
}

const pipelineProps = z.object({ pipeline: z.string().min(1) }).strict();
const muxProps = z.object({}).strict();

// The generic types run what their planet says; their own elements are only the fd links.
export const pipelineProducerType = defineComponentType({
  type: 'pipeline-producer', description: 'any GStreamer pipeline, output through @feeder:default@ (or at the end)',
  properties: pipelineProps, eaters: [], feeders: ['default'], gstElements: ['gdppay', 'fdsink'],
  create: (name, p) => new DescribedPipeline(name, p, ['default'], (q) => q.pipeline),
});
export const pipelineConverterType = defineComponentType({
  type: 'pipeline-converter', description: 'any GStreamer pipeline between @eater:default@ and @feeder:default@',
  properties: pipelineProps, eaters: ['default'], feeders: ['default'], gstElements: ['fdsrc', 'gdpdepay', 'gdppay', 'fdsink'],
  create: (name, p) => new DescribedPipeline(name, p, ['default'], (q) => q.pipeline),
});
export const pipelineConsumerType = defineComponentType({
  type: 'pipeline-consumer', description: 'any GStreamer pipeline after @eater:default@',
  properties: pipelineProps, eaters: ['default'], feeders: [], gstElements: ['fdsrc', 'gdpdepay'],
  create: (name, p) => new DescribedPipeline(name, p, [], (q) => q.pipeline),
});

const audiotestProps = z.object({
  wave: z.enum(['sine', 'square', 'saw', 'triangle', 'silence', 'white-noise', 'pink-noise', 'ticks']).default('sine'),
  frequency: z.number().positive().max(20000).default(440),
  rate: z.number().int().min(8000).max(192000).default(44100),
  channels: z.number().int().min(1).max(8).default(2),
  volume: z.number().min(0).max(1).default(0.5),
  'is-live': z.boolean().default(true),
}).strict();
export const audiotestProducerType = describedType({
  type: 'audiotest-producer', description: 'GStreamer audiotestsrc', properties: audiotestProps, eaters: [], feeders: ['default'],
  describe: (q) =>
    `audiotestsrc wave=${q.wave} freq=${q.frequency} volume=${q.volume} is-live=${q['is-live']} ! audio/x-raw,rate=${q.rate},channels=${q.channels}`,
});

const videotestProps = z.object({
  pattern: z.enum(['smpte', 'snow', 'black', 'white', 'red', 'green', 'blue', 'checkers-8', 'circular', 'ball', 'smpte75', 'bar']).default('smpte'),
  width: z.number().int().min(16).max(4096).default(320),
  height: z.number().int().min(16).max(4096).default(240),
  framerate: z.string().regex(/^\d+\/\d+$/).default('25/1'),
  overlay: z.boolean().default(true),
  'is-live': z.boolean().default(true),
}).strict();
export const videotestProducerType = describedType({
  type: 'videotest-producer', description: 'GStreamer videotestsrc, with a clock overlay', properties: videotestProps, eaters: [], feeders: ['default'],
  describe: (q) =>
    `videotestsrc pattern=${q.pattern} is-live=${q['is-live']} ! video/x-raw,width=${q.width},height=${q.height},framerate=${q.framerate}` +
    (q.overlay ? ' ! clockoverlay halignment=left valignment=bottom' : ''),
});

const audioEncProps = z.object({ bitrate: z.number().int().min(6000).max(512000).default(64000) }).strict();
export const vorbisEncoderType = describedType({
  type: 'vorbis-encoder', description: 'raw audio to Vorbis', properties: audioEncProps, eaters: ['default'], feeders: ['default'],
  describe: (q) =>
    `audioconvert ! audioresample ! vorbisenc bitrate=${q.bitrate}`,
});
export const opusEncoderType = describedType({
  type: 'opus-encoder', description: 'raw audio to Opus', properties: audioEncProps, eaters: ['default'], feeders: ['default'],
  describe: (q) =>
    `audioconvert ! audioresample ! opusenc bitrate=${q.bitrate}`,
});

const videoEncProps = z.object({
  /** bits per second */
  bitrate: z.number().int().min(16000).max(50000000).default(400000),
  /** frames between keyframes */
  'keyframe-interval': z.number().int().min(1).max(1000).default(25),
}).strict();
export const theoraEncoderType = describedType({
  type: 'theora-encoder', description: 'raw video to Theora', properties: videoEncProps, eaters: ['default'], feeders: ['default'], encodesVideo: true,
  describe: (q) =>
    `videoconvert ! theoraenc bitrate=${Math.round(q.bitrate / 1000)} keyframe-auto=false keyframe-freq=${q['keyframe-interval']} keyframe-force=${q['keyframe-interval']}`,
});
export const vp8EncoderType = describedType({
  type: 'vp8-encoder', description: 'raw video to VP8', properties: videoEncProps, eaters: ['default'], feeders: ['default'], encodesVideo: true,
  describe: (q) =>
    `videoconvert ! vp8enc target-bitrate=${q.bitrate} keyframe-max-dist=${q['keyframe-interval']} deadline=1 cpu-used=8 threads=1`,
});

const mp3Props = z.object({
  /** bits per second */
  bitrate: z.number().int().min(8000).max(320000).default(128000),
  /** constant bit rate (else average) */
  cbr: z.boolean().default(true),
}).strict();
export const mp3EncoderType = describedType({
  type: 'mp3-encoder', description: 'raw audio to MP3 (LAME), parsed frames', properties: mp3Props, eaters: ['default'], feeders: ['default'],
  describe: (q) =>
    `audioconvert ! audioresample ! lamemp3enc target=bitrate bitrate=${Math.round(q.bitrate / 1000)} cbr=${q.cbr} ! mpegaudioparse`,
});

const decoderProps = z.object({
  rate: z.number().int().min(8000).max(192000).default(44100),
  channels: z.number().int().min(1).max(8).default(2),
}).strict();
export const audioDecoderType = describedType({
  type: 'audio-decoder', description: 'any compressed audio (Vorbis, Opus, MP3, AAC...) to raw S16LE audio at a fixed rate and channel count',
  properties: decoderProps, eaters: ['default'], feeders: ['default'],
  describe: (q) =>
    `decodebin ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=${q.rate},channels=${q.channels}`,
  // What decodebin picks for Vorbis, Opus, MP3 and AAC (avdec_aac before faad: higher rank).
  alsoRuns: ['vorbisdec', 'opusdec', 'mpg123audiodec', 'avdec_aac'],
});

const videoDecoderProps = z.object({
  /** scale to this size (both or neither) */
  width: z.number().int().min(16).max(4096).optional(),
  height: z.number().int().min(16).max(4096).optional(),
}).strict().refine((p) => !p.width === !p.height, { message: 'width and height go together' });
export const videoDecoderType = describedType({
  type: 'video-decoder', description: 'any compressed video (H.264, HEVC, AV1, VP9, VP8, Theora...) to raw I420 video, optionally scaled',
  properties: videoDecoderProps, eaters: ['default'], feeders: ['default'],
  describe: (q) =>
    `decodebin ! videoconvert ! videoscale ! video/x-raw,format=I420${q.width ? `,width=${q.width},height=${q.height}` : ''}`,
  // What decodebin picks for H.264 (openh264dec, its only other choice, decodes baseline profile only),
  // HEVC, AV1 and VP9 (what an rtmp-producer carries from Enhanced RTMP), VP8, Theora.
  alsoRuns: ['avdec_h264', 'avdec_h265', 'av1dec', 'vp9dec', 'vp8dec', 'theoradec'],
});

const h264Props = z.object({
  /** bits per second */
  bitrate: z.number().int().min(16000).max(50000000).default(1000000),
  /** frames between keyframes (HLS segments are cut at keyframes) */
  'keyframe-interval': z.number().int().min(1).max(1000).default(50),
  'speed-preset': z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow']).default('veryfast'),
  tune: z.enum(['zerolatency', 'film', 'animation', 'none']).default('zerolatency'),
  profile: z.enum(['baseline', 'main', 'high']).default('main'),
}).strict();
export const h264EncoderType = describedType({
  type: 'h264-encoder', description: 'raw video to H.264 (x264; byte-stream access units, SPS/PPS before every keyframe)',
  properties: h264Props, eaters: ['default'], feeders: ['default'], encodesVideo: true,
  describe: (q) =>
    `videoconvert ! video/x-raw,format=I420 ! x264enc bitrate=${Math.max(1, Math.round(q.bitrate / 1000))} key-int-max=${q['keyframe-interval']} speed-preset=${q['speed-preset']}` +
    `${q.tune === 'none' ? '' : ` tune=${q.tune}`} ! video/x-h264,profile=${q.profile === 'baseline' ? 'constrained-baseline' : q.profile} ! h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au`,
});

const aacProps = z.object({ bitrate: z.number().int().min(8000).max(320000).default(128000) }).strict();
export const aacEncoderType = describedType({
  type: 'aac-encoder', description: 'raw audio to AAC-LC (voaacenc), ADTS frames', properties: aacProps, eaters: ['default'], feeders: ['default'],
  describe: (q) =>
    `audioconvert ! audioresample ! voaacenc bitrate=${q.bitrate} ! aacparse ! audio/mpeg,stream-format=adts`,
});

export const oggMuxerType = muxerType({ type: 'ogg-muxer', description: 'muxes its feeds (Vorbis, Opus, Theora) into Ogg', muxer: 'oggmux max-delay=500000000 max-page-delay=500000000' });
export const webmMuxerType = muxerType({ type: 'webm-muxer', description: 'muxes its feeds (VP8, Vorbis, Opus) into streamable WebM', muxer: 'webmmux streamable=true' });

export const mpegtsMuxerType = muxerType({
  type: 'mpegts-muxer', description: 'muxes its feeds (H.264, AAC, MP3) into MPEG-TS; keyframes start with PAT/PMT and are flagged', muxer: 'mpegtsmux',
});

export const PIPELINE_TYPES = [
  pipelineProducerType, pipelineConverterType, pipelineConsumerType, audiotestProducerType, videotestProducerType,
  vorbisEncoderType, opusEncoderType, theoraEncoderType, vp8EncoderType, oggMuxerType, webmMuxerType,
  mp3EncoderType, audioDecoderType, videoDecoderType, h264EncoderType, aacEncoderType, mpegtsMuxerType,
];
