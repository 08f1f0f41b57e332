import { GdpDecoder, GdpFrame, StickyState, encodePacket } from '../../../protocol/gdp';
import { EVENT_TYPES } from '../../../protocol/gst/event-types';
import { readVector } from '../../helpers/vectors';

function frames(bytes: Buffer): GdpFrame[] {
  const out: GdpFrame[] = [];
  new GdpDecoder({ onFrame: (f) => out.push(f) }).push(bytes);
  return out;
}

describe('StickyState', () => {
  it('primes a late joiner with stream-start, caps, segment and tags, in that order', () => {
    const sticky = new StickyState();
    for (const f of frames(readVector('audio-raw-s16le-mono').bytes)) sticky.update(f);
    const names = sticky.primingFrames().map((f) => (f.kind === 'caps' ? 'caps' : f.eventName));
    expect(names).toEqual(['stream-start', 'caps', 'segment', 'tag']);
  });

  it('drops a tag that came before stream-start, as the streamheader of gdppay does', () => {
    const sticky = new StickyState();
    for (const f of frames(readVector('audio-vorbis-ogg').bytes)) sticky.update(f);
    const names = sticky.primingFrames().map((f) => (f.kind === 'caps' ? 'caps' : f.eventName));
    expect(names).toEqual(['stream-start', 'caps', 'segment']);
    expect(sticky.streamheaders().length).toBe(2); // oggmux: the BOS page, then the comment+setup page
  });

  it('starts over at a new stream-start and keeps the latest caps', () => {
    const sticky = new StickyState();
    const all = frames(readVector('caps-change-concat').bytes);
    for (const f of all) sticky.update(f);
    const priming = sticky.primingFrames();
    const lastStart = [...all].reverse().find((f) => f.kind === 'event' && f.eventType === EVENT_TYPES['stream-start']);
    const lastCaps = [...all].reverse().find((f) => f.kind === 'caps');
    expect(priming[0]).toBe(lastStart);
    expect(priming[1]).toBe(lastCaps);
    expect(priming.filter((f) => f.kind === 'caps').length).toBe(1);
  });

  it('keeps custom sticky events by name and ignores non-sticky ones', () => {
    const sticky = new StickyState();
    for (const f of frames(readVector('custom-events').bytes)) sticky.update(f);
    const texts = sticky.primingFrames().map((f) => f.text ?? '');
    expect(texts.some((t) => t.startsWith('my-sticky'))).toBe(true);
    expect(texts.some((t) => t.startsWith('my-custom'))).toBe(false);
    expect(texts.some((t) => t.startsWith('GstEventGap'))).toBe(false);
    expect(texts.filter((t) => t.startsWith('GstTagList-')).length).toBe(2); // stream and global scope
  });

  it('reports no change for an identical repeat', () => {
    const sticky = new StickyState();
    const caps = frames(encodePacket({ kind: 'caps', caps: 'audio/x-raw' }))[0];
    expect(sticky.update(caps)).toBe(true);
    expect(sticky.update(caps)).toBe(false);
  });
});
