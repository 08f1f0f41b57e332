// Keyframe requests through a planet's pieces: an eater sends GstForceKeyUnit up its real feed
// connection and the feeder announces it (rate-limited); a real gst-launch encoder component
// (h264-encoder, vp8-encoder) asked for a keyframe makes one at once, mid-GOP, its output free
// of the flush that did it and its timestamps still increasing.

import * as net from 'net';
import { BUFFER_FLAG, GdpFrame, toFrame } from '../../../../protocol/gdp';
import { EVENT_TYPES } from '../../../../protocol/gst/event-types';
import { FlushedOutput, encoderRestartFrames, isKeyUnitRequest, keyUnitRequestFrame } from '../../../../protocol/gst/key-unit';
import { COMPONENT_TYPES } from '../../../../actors/components/registry';
import { Component } from '../../../../actors/component/component';
import { Feeder, KEY_UNIT_MIN_INTERVAL_MS } from '../../../../transport/feed/feeder';
import { EaterConnection } from '../../../../transport/feed/eater-connection';
import { describeGst } from '../../../helpers/gst';
import { waitFor } from '../../../helpers/net';

jest.setTimeout(30000);

describe('keyframe requests on a feed connection', () => {
  it('travel from the eater to the feeder, one announced per interval', async () => {
    const feeder = new Feeder('/t/enc:default');
    let added = false;
    let announced = 0;
    feeder.on('key-unit', () => announced++);
    // As a feed-to push does: the eater's resume line first (none here: a new eater), then the feed.
    const server = net.createServer((s) => {
      let head = Buffer.alloc(0);
      const onData = (d: Buffer) => {
        head = Buffer.concat([head, d]);
        if (!head.includes(10)) return;
        s.removeListener('data', onData);
        added = feeder.addEater(s, null) !== null;
      };
      s.on('data', onData);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const conn = new EaterConnection({ feed: '/t/enc:default', checkIntervalMs: 5000, onFrame: () => undefined, onFlowing: () => undefined, onEnd: () => undefined });
    conn.attach(socket, Buffer.alloc(0));
    try {
      expect(isKeyUnitRequest(keyUnitRequestFrame())).toBe(true);
      await waitFor(() => added, 3000, 'the eater added');
      for (let i = 0; i < 5; i++) expect(conn.sendUpstream(keyUnitRequestFrame())).toBe(true);
      await waitFor(() => announced === 1 && feeder.keyUnitRequestsDropped === 4, 3000);
      await new Promise((r) => setTimeout(r, KEY_UNIT_MIN_INTERVAL_MS + 50));
      conn.sendUpstream(keyUnitRequestFrame());
      await waitFor(() => announced === 2, 3000);
    } finally {
      conn.close();
      feeder.close();
      server.close();
    }
  });

  it('hide a flush from downstream and keep the running time of the first segment', () => {
    const out = new FlushedOutput();
    const buf = (pts: bigint) => encoderBuffer(pts);
    expect(out.frame(segmentFrame(1000n))).not.toBeNull();
    expect(out.frame(buf(1500n))?.pts).toBe(1500n);
    for (const f of encoderRestartFrames(null)) expect(out.frame(f)).toBeNull();
    expect(out.frame(segmentFrame(400n))).toBeNull(); // x264enc's restart: start moved back by 600
    expect(out.frame(buf(940n))?.pts).toBe(1540n);
  });
});

function segmentFrame(start: bigint): GdpFrame {
  return toFrameEvent(EVENT_TYPES.segment, `GstEventSegment, segment=(GstSegment)"segment, flags=(GstSegmentFlags)GST_SEGMENT_FLAG_NONE, rate=(double)1, applied-rate=(double)1, format=(GstFormat)time, base=(guint64)0, offset=(guint64)0, start=(guint64)${start}, stop=(guint64)18446744073709551615, time=(guint64)0, position=(guint64)${start}, duration=(guint64)18446744073709551615;";`);
}

function toFrameEvent(type: number, structure: string): GdpFrame {
  return toFrame({ kind: 'event', eventType: type, structure });
}
function encoderBuffer(pts: bigint): GdpFrame {
  return toFrame({ kind: 'buffer', pts, dts: pts, duration: null, offset: null, offsetEnd: null, flags: 0, data: Buffer.from([1, 2, 3]) });
}

describeGst('a GStreamer video encoder asked for a keyframe', () => {
  it.each([
    ['h264-encoder', { 'keyframe-interval': 1000, 'speed-preset': 'ultrafast' }],
    ['vp8-encoder', { 'keyframe-interval': 1000 }],
  ])('%s makes one at once, mid-GOP, with no flush and no step back in time downstream', async (type, props) => {
    const source = make('videotest-producer', { width: 160, height: 120, framerate: '25/1', overlay: false });
    const enc = make(type, props);
    const out: GdpFrame[] = [];
    enc.connectOutput('default', (f) => out.push(f));
    enc.addFeed('default', '/t/src:default');
    source.connectOutput('default', (f) => enc.eat('default', '/t/src:default', f));
    try {
      await enc.start();
      await source.start();
      enc.feedConnected('default', '/t/src:default');
      const keyframes = () => out.filter((f) => f.kind === 'buffer' && (f.bufferFlags & BUFFER_FLAG.DELTA_UNIT) === 0).length;
      const buffers = () => out.filter((f) => f.kind === 'buffer').length;
      await waitFor(() => buffers() >= 15, 15000);
      expect(keyframes()).toBe(1);
      enc.keyUnitRequested('default');
      const asked = buffers();
      await waitFor(() => keyframes() === 2, 5000);
      // The forced keyframe comes within a few frames of the request, not a GOP (1000 frames) later.
      const second = out.filter((f) => f.kind === 'buffer').findIndex((f, i) => i > 0 && (f.bufferFlags & BUFFER_FLAG.DELTA_UNIT) === 0);
      expect(second - asked).toBeLessThan(10);
      await waitFor(() => buffers() >= asked + 10, 5000);
      expect(out.some((f) => f.kind === 'event' && (f.eventType === EVENT_TYPES['flush-start'] || f.eventType === EVENT_TYPES['flush-stop']))).toBe(false);
      const pts = out.filter((f) => f.kind === 'buffer').map((f) => f.pts as bigint);
      for (let i = 1; i < pts.length; i++) expect(pts[i] > pts[i - 1]).toBe(true);
    } finally {
      await source.stop();
      await enc.stop();
    }
  });
});

function make(type: string, props: Record<string, unknown>): Component<unknown> {
  const t = COMPONENT_TYPES.get(type)!;
  return t.create(type, t.properties.parse(props)) as Component<unknown>;
}
