// Every component type fluxcast knows, by type name.
import { ComponentType } from './component-type';
import { httpStreamerType } from './http-streamer';
import { diskConsumerType } from './disk-consumer';
import { testAudioType } from './test-audio';
import { mulawEncoderType } from './mulaw-encoder';
import { wavMuxerType } from './wav-muxer';
import { watchdogType } from './watchdog';
import { porterType } from './porter';
import { icecastSourceProducerType } from './icecast-source-producer';
import { httpPullProducerType } from './http-pull-producer';
import { srtProducerType } from './srt-producer';
import { rtmpProducerType } from './rtmp-producer';
import { hlsStreamerType } from './hls-streamer';
import { whepStreamerType } from './webrtc/whep-streamer';
import { whipProducerType } from './webrtc/whip-producer';
import { PIPELINE_TYPES } from './pipeline/pipeline-types';

export const COMPONENT_TYPES: ReadonlyMap<string, ComponentType> = new Map<string, ComponentType>(
  [testAudioType, mulawEncoderType, wavMuxerType, watchdogType, httpStreamerType, porterType, diskConsumerType, icecastSourceProducerType, httpPullProducerType, srtProducerType, rtmpProducerType, hlsStreamerType, whepStreamerType, whipProducerType, ...PIPELINE_TYPES].map((t) => [t.type, t as unknown as ComponentType]),
);
