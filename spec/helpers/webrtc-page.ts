// The page the WebRTC tests load in Chromium (served from another origin): a WHEP player that
// reports what it decodes, a WHIP publisher of the fake camera and microphone or of a canvas
// that draws a millisecond clock, and the reader of that clock in received frames.

export const WEBRTC_PAGE = `<!doctype html><meta charset="utf-8"><title>fluxcast WebRTC</title><body>
<canvas id="src" width="320" height="240"></canvas>
<script>
const gathered = (pc) => new Promise((r) => {
  if (pc.iceGatheringState === 'complete') return r();
  pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
  setTimeout(r, 2000);
});
async function exchange(pc, url, token) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const headers = { 'Content-Type': 'application/sdp' };
  if (token) headers.Authorization = 'Bearer ' + token;
  const res = await fetch(url, { method: 'POST', headers, body: pc.localDescription.sdp });
  if (res.status !== 201) throw new Error('HTTP ' + res.status + ' ' + (await res.text()));
  const location = new URL(res.headers.get('Location'), url).href;
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  return location;
}
window.sessions = {};
// WHEP: play; resolves once frames are on screen (or after a timeout) with what was decoded.
window.whepPlay = async (url, token) => {
  const pc = new RTCPeerConnection();
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  const video = document.createElement('video');
  video.muted = true; video.autoplay = true; video.playsInline = true;
  document.body.appendChild(video);
  const stream = new MediaStream();
  pc.ontrack = (e) => { stream.addTrack(e.track); video.srcObject = stream; };
  const location = await exchange(pc, url, token);
  const id = Math.random().toString(36).slice(2);
  window.sessions[id] = { pc, video, location, token };
  return id;
};
window.whepState = async (id) => {
  const s = window.sessions[id];
  let audioPackets = 0, videoFrames = 0;
  (await s.pc.getStats()).forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'audio') audioPackets = r.packetsReceived;
    if (r.type === 'inbound-rtp' && r.kind === 'video') videoFrames = r.framesDecoded;
  });
  return { width: s.video.videoWidth, time: s.video.currentTime, state: s.pc.connectionState,
    audioTracks: s.video.srcObject ? s.video.srcObject.getAudioTracks().length : 0, audioPackets, videoFrames };
};
window.whepDelete = async (id) => {
  const s = window.sessions[id];
  const headers = s.token ? { Authorization: 'Bearer ' + s.token } : {};
  const r = await fetch(s.location, { method: 'DELETE', headers });
  s.pc.close();
  return r.status;
};
// Leaves without DELETE: the peer connection just stops (as a closed tab).
window.vanish = (id) => { const s = window.sessions[id]; s.pc.close(); };

// The clock: 24 bits of Date.now() (ms) as black and white blocks, drawn every frame.
const BITS = 24, CELL = 12;
function drawClock(ctx, t) {
  ctx.fillStyle = '#808080'; ctx.fillRect(0, 0, 320, 240);
  for (let i = 0; i < BITS; i++) {
    ctx.fillStyle = (t >> (BITS - 1 - i)) & 1 ? '#ffffff' : '#000000';
    ctx.fillRect((i % 8) * 40 + 4, Math.floor(i / 8) * 60 + 30, 32, 40);
  }
}
function readClock(data) {
  let t = 0;
  for (let i = 0; i < BITS; i++) {
    const x = (i % 8) * 40 + 20, y = Math.floor(i / 8) * 60 + 50;
    const v = data[(y * 320 + x) * 4];
    t = t * 2 + (v > 128 ? 1 : 0);
  }
  return t;
}
// WHIP: publishes the fake camera and microphone, or the clock canvas (with the fake microphone).
window.whipPublish = async (url, token, what, codec) => {
  let stream;
  if (what === 'clock') {
    const c = document.getElementById('src'); const ctx = c.getContext('2d');
    const tick = () => { drawClock(ctx, Date.now() & 0xffffff); requestAnimationFrame(tick); };
    tick();
    setInterval(() => drawClock(ctx, Date.now() & 0xffffff), 10);
    stream = c.captureStream(30);
    const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
    stream.addTrack(mic.getAudioTracks()[0]);
  } else {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: true });
  }
  const pc = new RTCPeerConnection();
  for (const t of stream.getTracks()) {
    const tr = pc.addTransceiver(t, { direction: 'sendonly' });
    if (t.kind === 'video' && codec) {
      const caps = RTCRtpSender.getCapabilities('video').codecs;
      tr.setCodecPreferences([...caps.filter((x) => x.mimeType.toLowerCase() === 'video/' + codec), ...caps.filter((x) => x.mimeType.toLowerCase() !== 'video/' + codec)]);
    }
  }
  const location = await exchange(pc, url, token);
  const id = Math.random().toString(36).slice(2);
  window.sessions[id] = { pc, location, token, stream };
  return id;
};
// Glass to glass: the clock read back from every frame the player presents, minus now.
window.measureLatency = (id, ms) => new Promise((resolve) => {
  const v = window.sessions[id].video;
  const c = document.createElement('canvas'); c.width = 320; c.height = 240;
  const ctx = c.getContext('2d', { willReadFrequently: true });
  const out = [];
  const end = performance.now() + ms;
  const frame = () => {
    ctx.drawImage(v, 0, 0, 320, 240);
    const shown = readClock(ctx.getImageData(0, 0, 320, 240).data);
    const now = Date.now() & 0xffffff;
    const d = (now - shown + 0x1000000) % 0x1000000;
    if (d < 10000) out.push(d);
    if (performance.now() < end) v.requestVideoFrameCallback(frame); else resolve(out);
  };
  v.requestVideoFrameCallback(frame);
});
</script>`;
