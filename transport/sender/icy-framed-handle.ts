// ICY metadata framed for one listener: a handle that wraps a listener's own handle and puts a
// metadata block after every `metaint` bytes it writes, counting on from where the listener is.
// A listener that asked for `Icy-MetaData: 1` and whose bytes cannot come from the shared ICY
// sender (an intro was written to it first, or it moved to another mount) is served this way
// from a plain sender: its count never restarts, whatever it is sent. It owns no policy.

import { ClientHandle, HandleOwner } from './handles';
import { icyBlock } from './icy-input';

export class IcyFramedHandle implements ClientHandle {
  private blockTitle = '';
  private block = icyBlock('');

  /**
   * @param inner the listener's handle
   * @param metaint the interval the listener was told (`icy-metaint`)
   * @param left bytes until its next block (metaint at the start of an interval)
   * @param title the title of the stream it is served now (changes when it moves)
   */
  constructor(
    readonly inner: ClientHandle,
    readonly metaint: number,
    private left: number,
    public title: () => string,
  ) {
    if (!(metaint > 0) || !(left > 0) || left > metaint) throw new RangeError(`bad ICY position ${left} of ${metaint}`);
  }

  get key(): unknown {
    return this.inner.key;
  }

  get pendingBytes(): number {
    return this.inner.pendingBytes;
  }

  get tcp(): ClientHandle['tcp'] {
    return this.inner.tcp;
  }

  /** Bytes until the listener's next metadata block. */
  get position(): number {
    return this.left;
  }

  write(chunks: Buffer[], bytes: number): boolean {
    const out: Buffer[] = [];
    let total = bytes;
    for (const chunk of chunks) {
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(this.left, chunk.length - off);
        out.push(n === chunk.length ? chunk : chunk.subarray(off, off + n));
        off += n;
        this.left -= n;
        if (this.left === 0) {
          const b = this.currentBlock();
          out.push(b);
          total += b.length;
          this.left = this.metaint;
        }
      }
    }
    return this.inner.write(out, total);
  }

  private currentBlock(): Buffer {
    const t = this.title();
    if (t !== this.blockTitle) {
      this.blockTitle = t;
      this.block = icyBlock(t);
    }
    return this.block;
  }

  attach<T>(owner: HandleOwner<T>, token: T): void {
    this.inner.attach(owner, token);
  }

  release(close?: boolean): void {
    this.inner.release(close);
  }

  detach(): void {
    this.inner.detach();
  }

  describe(): string {
    return this.inner.describe();
  }
}
