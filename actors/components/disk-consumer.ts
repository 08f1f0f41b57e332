// The disk-consumer: records the stream it eats to files (each starting with the streamheaders
// and a keyframe), rotating by size or time. A full disk makes it sad with a clear message;
// files finished before that are complete and untouched.

import * as fs from 'fs';
import { z } from 'zod';
import { GdpFrame } from '../../protocol/gdp';
import { Component } from '../component/component';
import { DiskRecorder } from '../../transport/recorder/disk-recorder';
import { defineComponentType } from './component-type';

export const diskConsumerProperties = z
  .object({
    directory: z.string().min(1),
    'filename-template': z.string().min(1).default('%Y%m%d-%H%M%S.{ext}'),
    /** bytes per file, 0 = no size rotation */
    'rotate-size': z.number().int().nonnegative().default(0),
    /** seconds per file, 0 = no time rotation */
    'rotate-time': z.number().nonnegative().default(0),
  })
  .strict();
export type DiskConsumerProperties = z.infer<typeof diskConsumerProperties>;

export class DiskConsumer extends Component<DiskConsumerProperties> {
  private recorder: DiskRecorder | null = null;

  get files(): string[] {
    return this.recorder?.finished.map((f) => f.path) ?? [];
  }

  get currentFile(): string | null {
    return this.recorder?.currentPath ?? null;
  }

  protected async setup(): Promise<void> {
    const p = this.properties;
    await fs.promises.mkdir(p.directory, { recursive: true });
    await fs.promises.access(p.directory, fs.constants.W_OK);
    const recorder = new DiskRecorder({
      directory: p.directory,
      filenameTemplate: p['filename-template'],
      rotateSizeBytes: p['rotate-size'],
      rotateTimeMs: p['rotate-time'] * 1000,
    });
    recorder.on('file-started', (f) => this.addMessage('info', `recording to ${f}`));
    recorder.on('failed', (e) => this.fail(`${e.code}: ${e.message}`));
    this.recorder = recorder;
  }

  protected async teardown(): Promise<void> {
    await this.recorder?.stop();
    this.recorder = null;
  }

  protected override onFrame(_eater: string, _feedId: string, frame: GdpFrame): void {
    this.recorder?.frame(frame);
  }
}

export const diskConsumerType = defineComponentType({
  type: 'disk-consumer',
  description: 'records the stream it eats to files, with rotation',
  properties: diskConsumerProperties,
  eaters: ['default'],
  feeders: [],
  gstElements: [],
  create: (name, props) => new DiskConsumer(name, props),
});
