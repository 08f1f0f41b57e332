import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GdpDecoder, GdpFrame, encodePacket, BUFFER_FLAG } from '../../../protocol/gdp';
import { DiskRecorder } from '../../../transport/recorder/disk-recorder';
import { formatFilename } from '../../../transport/recorder/filename-template';
import { waitFor } from '../../helpers/net';

function frame(bytes: Buffer): GdpFrame {
  let out: GdpFrame | undefined;
  const d = new GdpDecoder({ onFrame: (f) => (out = f), requireCaps: false });
  d.push(bytes);
  return out as GdpFrame;
}

const CAPS = frame(encodePacket({ kind: 'caps', caps: 'application/x-test, streamheader=(buffer)< 48454144 >' }));
/** Buffer i: 1000 bytes of (i & 0xff), a keyframe every 5th. */
function data(i: number, size = 1000): GdpFrame {
  return frame(encodePacket({ kind: 'buffer', pts: i * 20_000_000, dts: null, duration: 20_000_000, offset: null, offsetEnd: null, flags: i % 5 ? BUFFER_FLAG.DELTA_UNIT : 0, data: Buffer.alloc(size, i & 0xff) }));
}

function firstBytesOfBuffers(file: Buffer, headerLen: number, size = 1000): number[] {
  const out: number[] = [];
  for (let at = headerLen; at + size <= file.length; at += size) out.push(file[at]);
  return out;
}

describe('DiskRecorder', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-rec-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('starts every file with the streamheader and a keyframe, rotating by size', async () => {
    const rec = new DiskRecorder({ directory: dir, filenameTemplate: 'part-%s.{ext}', rotateSizeBytes: 7000 });
    const started: string[] = [];
    rec.on('file-started', (f) => started.push(f));
    rec.frame(CAPS);
    for (let i = 1; i <= 32; i++) {
      rec.frame(data(i));
      await new Promise((r) => setImmediate(r));
    }
    await rec.stop();
    // Files finish in any order (each flushes on its own); read them in the order they started.
    const files = started.map((p) => fs.readFileSync(p));
    expect(rec.finished.map((f) => f.path).sort()).toEqual([...started].sort());
    expect(files.length).toBeGreaterThanOrEqual(3);
    const seen: number[] = [];
    for (const f of files) {
      expect(f.subarray(0, 4).toString()).toBe('HEAD');
      const idx = firstBytesOfBuffers(f, 4);
      expect(idx[0] % 5).toBe(0); // a keyframe first
      seen.push(...idx);
    }
    expect(seen).toEqual(Array.from({ length: 28 }, (_, i) => i + 5)); // 5..32: nothing lost or doubled after the first keyframe
    expect(rec.finished.every((f) => f.path.endsWith('.bin'))).toBe(true);
  });

  it('fills in the filename template and never leaves the directory', () => {
    const when = new Date(2026, 10, 22, 4, 5, 6);
    expect(formatFilename('%Y%m%d-%H%M%S.{ext}', when, 'ogg')).toBe('20261122-040506.ogg');
    expect(() => formatFilename('../%Y.{ext}', when, 'ogg')).toThrow(expect.objectContaining({ code: 'FLUX_DISK_BAD_TEMPLATE' }));
  });

  const canMount = process.getuid?.() === 0;
  (canMount || process.env.CI ? it : it.skip)('stops with FLUX_DISK_FULL on a full disk and leaves finished files intact', async () => {
    const mnt = path.join(dir, 'small');
    fs.mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
    try {
      const rec = new DiskRecorder({ directory: mnt, filenameTemplate: 'r-%s.{ext}', rotateSizeBytes: 20000 });
      const failed = new Promise((resolve) => rec.on('failed', resolve));
      rec.frame(CAPS);
      for (let i = 1; i <= 100 && !rec.error; i++) {
        rec.frame(data(i, 1000));
        await new Promise((r) => setTimeout(r, 1));
      }
      await failed;
      await waitFor(() => rec.error !== null);
      expect(rec.error?.code).toBe('FLUX_DISK_FULL');
      expect(rec.finished.length).toBeGreaterThanOrEqual(1);
      for (const f of rec.finished) {
        const bytes = fs.readFileSync(f.path);
        expect(bytes.length).toBe(f.bytes);
        expect(bytes.subarray(0, 4).toString()).toBe('HEAD');
        expect((bytes.length - 4) % 1000).toBe(0); // whole buffers only
      }
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});
