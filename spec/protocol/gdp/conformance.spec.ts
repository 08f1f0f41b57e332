// GDP conformance against bytes written and reports printed by GStreamer 1.22 itself.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encodePacket } from '../../../protocol/gdp';
import { decodeToReport, listVectors, normaliseGstOutput, readVector } from '../../helpers/vectors';
import { describeGst, gstLaunch } from '../../helpers/gst';

const vectors = listVectors();
const decodeOnly = listVectors('decode-only');

function reencode(bytes: Buffer): Buffer {
  const { frames } = decodeToReport(bytes);
  return Buffer.concat(frames.map((f) => encodePacket(f.toPacket(), { crcHeader: f.crcHeader, crcPayload: f.crcPayload })));
}

describe('GDP decoder against GStreamer 1.22 reports', () => {
  it('finds the vectors in the repository', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(16);
    expect(decodeOnly.length).toBeGreaterThanOrEqual(12);
  });

  it.each([...vectors, ...decodeOnly])('%s decodes to exactly what gdpdepay reported', (name) => {
    const { bytes, expect: expected } = readVector(name);
    expect(decodeToReport(bytes).lines).toEqual(expected);
  });

  it.each([...vectors, ...decodeOnly])('%s decodes the same when fed one byte at a time', (name) => {
    const { bytes, expect: expected } = readVector(name);
    expect(decodeToReport(bytes, 1).lines).toEqual(expected);
    expect(decodeToReport(bytes, 61).lines).toEqual(expected);
  });

  it('reports the dropped tail of a truncated stream as FLUX_GDP_TRUNCATED', () => {
    const trunc = decodeToReport(readVector('decode-only/truncated-payload').bytes);
    expect(trunc.error).toBeNull();
    expect(trunc.truncated?.code).toBe('FLUX_GDP_TRUNCATED');
    const partial = decodeToReport(readVector('decode-only/trailing-partial-header').bytes);
    expect(partial.truncated?.code).toBe('FLUX_GDP_TRUNCATED');
    expect(decodeToReport(readVector('crc-none').bytes).truncated).toBeNull();
  });

  it('names the error codes GStreamer fails with', () => {
    const codes = Object.fromEntries(
      decodeOnly.map((n) => [path.basename(n), decodeToReport(readVector(n).bytes).error?.code ?? null]),
    );
    expect(codes).toEqual({
      'bad-header-crc': 'FLUX_GDP_BAD_HEADER_CRC',
      'bad-payload-crc': 'FLUX_GDP_BAD_PAYLOAD_CRC',
      'bad-version-buffer': null,
      'bad-version-event': 'FLUX_GDP_BAD_EVENT',
      'buffer-before-caps': 'FLUX_GDP_BUFFER_BEFORE_CAPS',
      'caps-without-nul': null,
      'crc-fields-ignored-when-flags-off': null,
      'eos-event-packet': null,
      'trailing-partial-header': null,
      'truncated-payload': null,
      'unparsable-event-payload': 'FLUX_GDP_BAD_EVENT',
      'wrong-payload-type': 'FLUX_GDP_WRONG_PAYLOAD_TYPE',
    });
  });
});

describe('GDP encoder against gdppay 1.22 bytes', () => {
  it.each(vectors)('%s re-encodes byte for byte', (name) => {
    const { bytes } = readVector(name);
    expect(reencode(bytes).equals(bytes)).toBe(true);
  });
});

describeGst('GDP encoder output read by real gdpdepay', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-gdp-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each(vectors.filter((v) => !v.startsWith('eos-no-buffers')))('%s: gst-launch reports the same for our bytes', (name) => {
    const { bytes, expect: expected } = readVector(name);
    const out = path.join(dir, `${name}.gdp`);
    fs.writeFileSync(out, reencode(bytes));
    const run = gstLaunch(['-v', 'filesrc', `location=${out}`, '!', 'gdpdepay', '!', 'fakesink', 'silent=false', 'sync=false']);
    expect(normaliseGstOutput(run.out)).toEqual(expected);
    expect(run.status).toBe(0);
  });
});
