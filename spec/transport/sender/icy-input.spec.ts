// ICY metadata blocks and their placement: every listener of the shared ICY sender starts at a
// unit boundary (the only keyframes), so a block follows every `metaint` bytes for each of them.

import { IcyInput, icyBlock } from '../../../transport/sender/icy-input';
import { MultiClientSender } from '../../../transport/sender/multi-client-sender';

describe('ICY metadata', () => {
  it('makes blocks of 16-byte units with the title, and an empty one without', () => {
    expect(icyBlock('')).toEqual(Buffer.from([0]));
    const b = icyBlock("Bob's Song");
    expect(b[0]).toBe(Math.ceil("StreamTitle='Bob’s Song';".length / 16) || 1);
    expect(b.length).toBe(1 + b[0] * 16);
    expect(b.toString('utf8', 1).replace(/\0+$/, '')).toBe("StreamTitle='Bob’s Song';");
    // A long title is cut to what the block can carry: its length byte counts whole 16-byte
    // units, the text keeps its quotes and ends where the units end, and nothing spills over.
    const long = icyBlock('x'.repeat(10000));
    expect(long.length).toBe(1 + long[0] * 16);
    expect(long.toString('utf8', 1)).toMatch(/^StreamTitle='x+';\0*$/);
    expect(long.toString('utf8', 1).replace(/\0+$/, '').length).toBeLessThanOrEqual(long[0] * 16);
  });

  it('cuts the bytes into units of metaint, each followed by the block, keyframes only at unit starts', () => {
    const sender = new MultiClientSender();
    const pushed: Array<{ size: number; keyframe: boolean; block: boolean }> = [];
    const push = sender.push.bind(sender);
    sender.push = (buf) => {
      pushed.push({ size: buf.size, keyframe: buf.keyframe, block: buf.chunks[0][0] === 0 && buf.size === 1 });
      push(buf);
    };
    const icy = new IcyInput(sender, 100);
    for (let i = 0; i < 7; i++) icy.data(Buffer.alloc(45, 1), null);
    let stream = 0;
    for (const p of pushed) {
      if (p.block) {
        expect(stream % 100).toBe(0);
        continue;
      }
      expect(p.keyframe).toBe(stream % 100 === 0);
      stream += p.size;
    }
    expect(stream).toBe(315);
    expect(pushed.filter((p) => p.block)).toHaveLength(3);
    sender.close();
  });
});
