// `npm run bench:webrtc [-- --viewers 50 --hls-clients 200 --seconds 10 --json]`: what a viewer
// costs the server, WebRTC beside LL-HLS, in one run on this machine. A serving process
// (bench/webrtc-origin.ts) runs a whep-streamer (VP8 + Opus, 640x360, ~860 kbit/s) and an LL-HLS
// hls-streamer (H.264 + AAC, 0.333 s parts) fed by GStreamer. Its CPU is read from /proc:
//   1. idle, for `seconds` (the cost of eating the feeds);
//   2. with N WHEP viewers (werift peers in this process: full ICE, DTLS, SRTP, RTCP, each
//      checked to receive video and audio), for `seconds`;
//   3. with M LL-HLS clients polling as players do (a blocking reload for the next part, then
//      the part), for `seconds`.
// Viewers per core = N / (CPU share with N viewers − idle share); likewise LL-HLS clients.

import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import { RTCPeerConnection } from 'werift';
import { cpuSeconds, rssMB } from './procstat';
import { load } from './hls-clients';

function arg(name: string, d: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? d : Number(process.argv[i + 1]);
}
const JSON_OUT = process.argv.includes('--json');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Viewer {
  pc: RTCPeerConnection;
  packets: { video: number; audio: number };
}

async function viewer(url: string): Promise<Viewer> {
  const pc = new RTCPeerConnection({ iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'] });
  const v: Viewer = { pc, packets: { video: 0, audio: 0 } };
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe(() => {
      if (track.kind === 'video' || track.kind === 'audio') v.packets[track.kind]++;
    });
  });
  await pc.setLocalDescription(await pc.createOffer());
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription?.sdp });
  if (res.status !== 201) throw new Error(`WHEP answered ${res.status}: ${await res.text()}`);
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  return v;
}

async function cpuOver(pid: number, ms: number): Promise<number> {
  const c0 = cpuSeconds(pid);
  const t0 = Date.now();
  await sleep(ms);
  return (cpuSeconds(pid) - c0) / ((Date.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const n = arg('viewers', 50);
  const m = arg('hls-clients', 200);
  const seconds = arg('seconds', 10);
  const origin: ChildProcess = spawn(process.execPath, [path.join(__dirname, 'webrtc-origin.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  let line = '';
  await new Promise<void>((resolve) => origin.stdout?.on('data', (d: Buffer) => {
    line += d.toString();
    if (line.includes('\n')) resolve();
  }));
  const ports = JSON.parse(line) as { whep: string; ll: string };
  const pid = origin.pid as number;
  try {
    await sleep(3000); // the encoders started, the LL-HLS window filled
    const idle = await cpuOver(pid, seconds * 1000);
    const viewers: Viewer[] = [];
    for (let i = 0; i < n; i++) viewers.push(await viewer(ports.whep));
    const deadline = Date.now() + 20000;
    while (viewers.some((v) => v.packets.video < 50 || v.packets.audio < 20) && Date.now() < deadline) await sleep(200);
    const receiving = viewers.filter((v) => v.packets.video >= 50 && v.packets.audio >= 20).length;
    const before = viewers.map((v) => v.packets.video + v.packets.audio);
    const withViewers = await cpuOver(pid, seconds * 1000);
    const pps = viewers.reduce((s, v, i) => s + v.packets.video + v.packets.audio - before[i], 0) / seconds;
    const rssViewers = rssMB(pid);
    await Promise.all(viewers.map((v) => v.pc.close().catch(() => undefined)));
    await sleep(2000);
    let hlsRequests = 0;
    const c0 = cpuSeconds(pid);
    const t0 = Date.now();
    hlsRequests = await load(m, seconds * 1000, Number(ports.ll), '/live.m3u8', true);
    const withHls = (cpuSeconds(pid) - c0) / ((Date.now() - t0) / 1000);
    const perViewer = (withViewers - idle) / n;
    const perHls = (withHls - idle) / m;
    const r = {
      viewers: n, receiving, packetsPerSecondReceived: Math.round(pps), idleCpu: idle, whepCpu: withViewers, whepRssMB: Math.round(rssViewers),
      whepViewersPerCore: Math.round(1 / perViewer), hlsClients: m, llhlsCpu: withHls, llhlsRequestsPerSecond: Math.round(hlsRequests / seconds),
      llhlsClientsPerCore: Math.round(1 / perHls),
    };
    if (JSON_OUT) {
      console.log(JSON.stringify(r));
      return;
    }
    const pc = (x: number) => `${(x * 100).toFixed(1)} %`;
    console.log(`serving process, CPU of one core (idle: eating the feeds): ${pc(idle)}`);
    console.log(`WHEP, VP8 + Opus: ${n} viewers (${receiving} receiving video and audio, ${Math.round(pps)} packets/s in all): ${pc(withViewers)} CPU, RSS ${Math.round(rssViewers)} MB`);
    console.log(`LL-HLS, H.264 + AAC, 0.333 s parts: ${m} clients polling as players (${Math.round(hlsRequests / seconds)} requests/s): ${pc(withHls)} CPU`);
    console.log(`viewers per core: WHEP ${r.whepViewersPerCore}, LL-HLS ${r.llhlsClientsPerCore}`);
  } finally {
    origin.kill('SIGKILL');
  }
}

void main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
