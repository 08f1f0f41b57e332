// The HLS test planet: test picture and tone → H.264 + AAC → MPEG-TS → HLS and LL-HLS. With
// `split`, the encoders run on worker1 and the muxer and streamers on worker2 (for failover).
import { ADMIN_SECRET, SECRET } from './planet';

export function hlsPlanet(managerPort: number, ports: { hls: number; ll: number }, split = false): string {
  const w2 = split ? 'worker2' : 'worker1';
  return `
name: hls-test
manager: { port: ${managerPort}, secret: ${SECRET}, admin-secret: ${ADMIN_SECRET} }
workers: [ { name: worker1 }${split ? ', { name: worker2 }' : ''} ]
flows:
  - name: tv
    components:
      - { name: picture, type: videotest-producer, worker: worker1, properties: { width: 320, height: 240, framerate: 25/1 } }
      - { name: h264, type: h264-encoder, worker: worker1, properties: { bitrate: 400000, keyframe-interval: 25, speed-preset: ultrafast, profile: baseline }, eaters: { default: [picture] } }
      - { name: tone, type: audiotest-producer, worker: worker1, properties: { rate: 44100, channels: 2, volume: 0.2 } }
      - { name: aac, type: aac-encoder, worker: worker1, properties: { bitrate: 96000 }, eaters: { default: [tone] } }
      - { name: ts, type: mpegts-muxer, worker: ${w2}, eaters: { default: [h264, aac] } }
      - { name: hls, type: hls-streamer, worker: ${w2}, properties: { port: ${ports.hls}, mount-point: /tv.m3u8, target-duration: 1 }, eaters: { default: [ts] } }
      - { name: llhls, type: hls-streamer, worker: ${w2}, properties: { port: ${ports.ll}, mount-point: /tv.m3u8, target-duration: 1, low-latency: true, part-duration: 0.2 }, eaters: { default: [ts] } }
`;
}

