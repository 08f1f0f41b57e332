import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../helpers/cli';
import { VECTOR_DIR, listVectors } from '../helpers/vectors';

const vec = (name: string) => path.join(VECTOR_DIR, `${name}.gdp`);

describe('fluxcast gdp', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-cli-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints --help with the gdp command', () => {
    const r = runCli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('gdp');
  });

  it('inspect prints one JSON object per packet with exact 64-bit integers', () => {
    const r = runCli(['gdp', 'inspect', vec('buffer-fields')]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(8);
    expect(JSON.parse(lines[1])).toEqual({ kind: 'caps', caps: 'application/x-gdp-vector-test, variant=(int)1' });
    expect(JSON.parse(lines[2])).toMatchObject({ kind: 'event', type: 'segment', eventType: 17934 });
    expect(lines[3]).toBe('{"kind":"buffer","size":5,"pts":0,"dts":0,"duration":1000,"offset":0,"offsetEnd":5,"flags":64}');
    expect(lines[6]).toContain('"offset":9223372036854775807,"offsetEnd":18446744073709551614');
  });

  it('inspect reads standard input and names unknown event types as fakesink does', () => {
    const r = runCli(['gdp', 'inspect', '-'], fs.readFileSync(vec('custom-events')));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('{"kind":"event","type":"unknown","eventType":6150,"structure":"my-custom, answer=(int)42, note=(string)\\"hello\\\\ world\\";"}');
  });

  it('inspect prints the packets before a malformed one, then the error code, and exits 1', () => {
    const r = runCli(['gdp', 'inspect', vec('decode-only/bad-header-crc')]);
    expect(r.status).toBe(1);
    expect(r.stdout.trim().split('\n').length).toBe(5);
    expect(r.stderr).toMatch(/^error FLUX_GDP_BAD_HEADER_CRC: /);
  });

  it('inspect flags a truncated stream', () => {
    const r = runCli(['gdp', 'inspect', vec('decode-only/truncated-payload')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/FLUX_GDP_TRUNCATED/);
  });

  it('inspect of a missing file is a clear error', () => {
    const r = runCli(['gdp', 'inspect', path.join(dir, 'missing.gdp')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error FLUX_CLI_CANNOT_READ: /);
  });

  it.each(listVectors())('roundtrip of %s is byte-identical', (name) => {
    const out = path.join(dir, path.basename(name) + '.out');
    const r = runCli(['gdp', 'roundtrip', vec(name), out]);
    expect(r.status).toBe(0);
    expect(fs.readFileSync(out).equals(fs.readFileSync(vec(name)))).toBe(true);
  });
});
