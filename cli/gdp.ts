// `fluxcast gdp inspect` and `fluxcast gdp roundtrip`: look into and re-encode GDP streams.
// Reads streams chunk by chunk through the incremental decoder; never loads a file whole.

import * as fs from 'fs';
import { Readable } from 'stream';
import { GdpDecoder, GdpFrame, encodePacket } from '../protocol/gdp';
import { FluxError, GdpError } from '../protocol/errors';
import { CLI_ERROR_CODES } from './errors';

function num(v: bigint | null): string {
  return v === null ? 'null' : v.toString();
}

/** One JSON line per frame; 64-bit values are written as exact integers. */
export function frameJson(f: GdpFrame): string {
  if (f.kind === 'buffer') {
    return (
      `{"kind":"buffer","size":${f.payloadLength},"pts":${num(f.pts)},"dts":${num(f.dts)},"duration":${num(f.duration)},` +
      `"offset":${num(f.offset)},"offsetEnd":${num(f.offsetEnd)},"flags":${f.bufferFlags}}`
    );
  }
  if (f.kind === 'caps') return `{"kind":"caps","caps":${JSON.stringify(f.text ?? '')}}`;
  return `{"kind":"event","type":${JSON.stringify(f.eventName)},"eventType":${f.eventType},"structure":${JSON.stringify(f.text)}}`;
}

function openInput(file: string): Readable {
  if (file === '-') return process.stdin;
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (e) {
    throw new FluxError(CLI_ERROR_CODES.CANNOT_READ, `cannot read '${file}': ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  return fs.createReadStream(file, { highWaterMark: 256 * 1024 });
}

/** Decodes a whole input, handing each frame to `onFrame`; resolves to the error that ended it, if any. */
export async function decodeStream(input: Readable, onFrame: (f: GdpFrame) => void, maxPayloadSize?: number): Promise<GdpError | null> {
  const decoder = new GdpDecoder({ onFrame, maxPayloadSize });
  for await (const chunk of input) {
    const err = decoder.push(chunk as Buffer);
    if (err) {
      input.destroy();
      return err;
    }
    if (decoder.ended) {
      input.destroy();
      return null;
    }
  }
  return decoder.end();
}

function describeError(err: GdpError): string {
  return `error ${err.code}: ${err.message} (after ${err.packetIndex} packets, at byte ${err.byteOffset})\n`;
}

export async function inspect(file: string, opts: { maxPayload?: number }): Promise<number> {
  const input = openInput(file);
  let out = '';
  const err = await decodeStream(
    input,
    (f) => {
      out += frameJson(f) + '\n';
      if (out.length > 65536) {
        process.stdout.write(out);
        out = '';
      }
    },
    opts.maxPayload,
  );
  await new Promise<void>((resolve) => process.stdout.write(out, () => resolve()));
  if (err) {
    process.stderr.write(describeError(err));
    return 1;
  }
  return 0;
}

export async function roundtrip(inFile: string, outFile: string): Promise<number> {
  const input = openInput(inFile);
  let output: fs.WriteStream;
  try {
    output = fs.createWriteStream(outFile);
    await new Promise<void>((resolve, reject) => output.once('open', () => resolve()).once('error', reject));
  } catch (e) {
    throw new FluxError(CLI_ERROR_CODES.CANNOT_WRITE, `cannot write '${outFile}': ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  const err = await decodeStream(input, (f) => {
    output.write(encodePacket(f.toPacket(), { crcHeader: f.crcHeader, crcPayload: f.crcPayload }));
  });
  await new Promise<void>((resolve) => output.end(() => resolve()));
  if (err) {
    process.stderr.write(describeError(err));
    return 1;
  }
  return 0;
}
