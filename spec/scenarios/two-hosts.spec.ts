// The README's "Two machines" walkthrough, run as written: its blocks are taken from README.md and
// run on two network namespaces joined by a veth pair, host A (10.0.0.1) and host B (10.0.0.2).
// Each host has its own /srv (a bind mount in the namespace's private mount namespace), so B has
// only what the README copies to it; `npx fluxcast` is this build, `ssh`/`scp` to 10.0.0.2 reach
// B's namespace and files, `apt-get install` checks that the packages are installed, `npm ci` is
// the build already made. TLS on every hop; components on both hosts; HLS across them. The
// README's fixed ports (7531, 8600, 8443) are safe: each namespace has ports of its own.
// Needs root, iproute2 and GStreamer; outside CI it is skipped with a notice when they are missing.
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CLI } from '../helpers/cli';
import { gstAvailable } from '../helpers/gst';
import { waitFor } from '../helpers/net';

jest.setTimeout(90000);

const REPO = path.resolve(__dirname, '../..');
const ADDRESS = { A: '10.0.0.1', B: '10.0.0.2' } as const;
type Host = keyof typeof ADDRESS;

function canNetns(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Block {
  lang: 'sh' | 'yaml';
  /** The first line's comment: `# on host A...`. */
  head: string;
  text: string;
}

/** The fenced sh and yaml blocks of the README's "Two machines" section, in order. */
function walkthrough(): Block[] {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Two machines\n');
  if (start < 0) throw new Error('README.md has no "Two machines" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end);
  return [...section.matchAll(/```(sh|yaml)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1] as 'sh' | 'yaml', head: m[2].split('\n')[0], text: m[2] }));
}

const available = canNetns() && gstAvailable();
if (!available && !process.env.CI) console.warn('NOTICE: two-host walkthrough skipped (needs root, iproute2 and GStreamer)');

(available || process.env.CI ? describe : describe.skip)('the README walkthrough on two machines', () => {
  const tag = `fc2h${process.pid % 10000}`;
  const ns: Record<Host, string> = { A: `${tag}-a`, B: `${tag}-b` };
  const root: Record<Host, string> = { A: '', B: '' };
  const daemons: Array<{ child: ChildProcess; log: string[]; head: string }> = [];
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

  beforeAll(() => {
    if (!canNetns()) throw new Error('root and iproute2 are required in CI for the two-host walkthrough');
    if (!gstAvailable()) throw new Error('GStreamer is required in CI for the two-host walkthrough');
    for (const h of ['A', 'B'] as const) root[h] = fs.mkdtempSync(path.join(os.tmpdir(), `fluxcast-host${h}-`));
    ip('netns', 'add', ns.A);
    ip('netns', 'add', ns.B);
    ip('link', 'add', `${tag}a`, 'type', 'veth', 'peer', 'name', `${tag}b`);
    for (const h of ['A', 'B'] as const) {
      const dev = `${tag}${h.toLowerCase()}`;
      ip('link', 'set', dev, 'netns', ns[h]);
      ip('netns', 'exec', ns[h], 'ip', 'addr', 'add', `${ADDRESS[h]}/24`, 'dev', dev);
      ip('netns', 'exec', ns[h], 'ip', 'link', 'set', dev, 'up');
      ip('netns', 'exec', ns[h], 'ip', 'link', 'set', 'lo', 'up');
    }
  });

  afterAll(async () => {
    // Workers first, then the manager, as an operator stops them.
    for (const d of [...daemons].reverse()) {
      if (d.child.exitCode !== null || d.child.signalCode !== null) continue;
      d.child.kill('SIGINT');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise((r) => d.child.once('exit', r)), new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
      if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
    }
    for (const h of ['A', 'B'] as const) {
      try {
        ip('netns', 'del', ns[h]); // the veth pair goes with it
      } catch {
        /* not made */
      }
      if (root[h]) fs.rmSync(root[h], { recursive: true, force: true });
    }
  });

  /**
   * The shell a README block runs in on `host`: its own /srv, in the clone, with `npx fluxcast`
   * being this build (exec'd for a daemon, so signals reach it), and ssh/scp to the other host.
   */
  function shell(host: Host, script: string, daemon = false): { cmd: string; args: string[] } {
    const other: Host = host === 'A' ? 'B' : 'A';
    const prelude = [
      'set -e',
      `mount --bind ${root[host]} /srv`,
      `npx() { [ "$1" = fluxcast ] || { echo "npx $1: only fluxcast is run here" >&2; return 127; }; shift; ${daemon ? 'exec ' : ''}node ${CLI} "$@"; }`,
      'apt-get() { [ "$1" = install ] && shift; [ "$1" = -y ] && shift; dpkg -s "$@" > /dev/null; }',
      `npm() { [ "$1" = ci ] && [ -f ${CLI} ]; }`,
      `ssh() { [ "$1" = ${ADDRESS[other]} ] || return 255; shift; ip netns exec ${ns[other]} bash -c "set -e; mount --bind ${root[other]} /srv; $*"; }`,
      // scp FILE... HOST:DIR/ — copied into the other host's /srv, modes kept.
      `scp() { local n=$#; local dest="\${!n}"; [ "\${dest%%:*}" = ${ADDRESS[other]} ] || return 255; local to="\${dest#*:}"; cp -p "\${@:1:$((n-1))}" "${root[other]}\${to#/srv}"; }`,
    ].join('\n');
    return { cmd: 'ip', args: ['netns', 'exec', ns[host], 'bash', '-c', `${prelude}\n${script}`] };
  }

  function runBlock(host: Host, script: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const { cmd, args } = shell(host, script);
    return new Promise((resolve) => {
      const c = spawn(cmd, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => c.kill('SIGKILL'), 30000);
      c.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
    });
  }

  function hostsOf(head: string): Host[] {
    if (/^# on both hosts/.test(head)) return ['A', 'B'];
    const m = /^# on host ([AB])\b/.exec(head);
    if (!m) throw new Error(`a walkthrough block that says on which host it runs, not '${head}'`);
    return [m[1] as Host];
  }

  it('runs a TLS planet across two hosts, as the README says, with HLS served from B', async () => {
    const blocks = walkthrough();
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    let certsOutput = '';
    const checks: Array<{ host: Host; text: string }> = [];
    for (const b of blocks) {
      if (b.lang === 'yaml') {
        // `# on host A: /srv/fluxcast/planet.yaml` — the file to write, on that host.
        const m = /^# on host ([AB]): (\/srv\/\S+)$/.exec(b.head);
        if (!m) throw new Error(`a YAML block names its host and file: '${b.head}'`);
        fs.writeFileSync(path.join(root[m[1] as Host], m[2].slice('/srv'.length)), b.text);
        continue;
      }
      const hosts = hostsOf(b.head);
      if (/^npx fluxcast (manager|worker) /m.test(b.text)) {
        // A daemon: started and left running.
        const { cmd, args } = shell(hosts[0], b.text, true);
        const log: string[] = [];
        const child = spawn(cmd, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout?.on('data', (d: Buffer) => log.push(d.toString()));
        child.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
        daemons.push({ child, log, head: b.head });
        if (/fluxcast manager /.test(b.text)) {
          await waitFor(() => log.join('').includes(`manager: planet 'tv' on wss://${ADDRESS.A}:7531`), 15000, `the manager up (${log.join('')})`);
        }
        continue;
      }
      if (daemons.length) {
        // Looking and listening: run once everything is up (below).
        checks.push({ host: hosts[0], text: b.text });
        continue;
      }
      for (const h of hosts) {
        const r = await runBlock(h, b.text);
        if (r.status !== 0) throw new Error(`the block '${b.head}' failed on host ${h} (${r.status}):\n${r.stdout}${r.stderr}`);
        if (/fluxcast certs init/.test(b.text)) certsOutput = r.stdout;
      }
    }

    // The secrets are private; the planet holds, as they are, the lines certs init printed.
    for (const f of ['workers.secret', 'admin.secret']) expect(fs.statSync(path.join(root.A, 'fluxcast', f)).mode & 0o777).toBe(0o600);
    const planet = fs.readFileSync(path.join(root.A, 'fluxcast/planet.yaml'), 'utf8').split('\n');
    const printedYaml = certsOutput.split('\n').filter((l) => /^\s*(tls|feeds|tls-cert-file|tls-key-file):/.test(l));
    expect(printedYaml).toHaveLength(4);
    for (const l of printedYaml) expect(planet).toContain(l);
    // The worker commands carry the TLS flags certs init printed for them.
    const readme = blocks.map((b) => b.text.replace(/\\\n\s*/g, '')).join('\n');
    for (const w of ['studio', 'edge']) {
      const printed = certsOutput.split('\n').find((l) => l.startsWith(`npx fluxcast worker --name ${w} `)) as string;
      const ours = readme.split('\n').find((l) => l.startsWith(`npx fluxcast worker --name ${w} `)) as string;
      const flags = printed.split(' ').slice(3);
      for (let i = 0; i < flags.length; i += 2) expect(ours).toContain(`${flags[i]} ${flags[i + 1]}`);
    }
    // B got what it needs, and not the CA's key.
    expect(fs.readdirSync(path.join(root.B, 'fluxcast/certs')).sort()).toEqual(['ca.pem', 'https-front@tv.key', 'https-front@tv.pem', 'worker-edge.key', 'worker-edge.pem']);
    expect(fs.statSync(path.join(root.B, 'fluxcast/certs/worker-edge.key')).mode & 0o777).toBe(0o600);

    // Status from host B: every component happy, both workers in.
    const [statusCheck, listenCheck, wrongScheme] = checks;
    expect(statusCheck.host).toBe('B');
    let status = { status: null as number | null, stdout: '', stderr: '' };
    const allHappy = (out: string) => {
      const lines = out.split('\n').filter((l) => /^ {2}\/tv\//.test(l));
      return lines.length === 8 && lines.every((l) => / happy /.test(l));
    };
    await waitFor(() => status.status === 0 && allHappy(status.stdout), 45000, 'all happy, seen from B', async () => {
      status = await runBlock(statusCheck.host, statusCheck.text);
      if (!allHappy(status.stdout)) await new Promise((r) => setTimeout(r, 400));
    }).catch((e) => {
      throw new Error(`${(e as Error).message}\n${status.stdout}${status.stderr}\n${daemons.map((d) => `${d.head}\n${d.log.join('').slice(-3000)}`).join('\n')}`);
    });
    expect(status.stdout).toMatch(/studio +connected/);
    expect(status.stdout).toMatch(/edge +connected/);
    expect(status.stdout).toMatch(/\/tv\/picture +happy +videotest-producer +on studio/);
    expect(status.stdout).toMatch(/\/tv\/hls +happy +hls-streamer +on edge +eats default<-\/tv\/ts:default/);

    // From host A: the playlist over HTTPS from B, verified against the CA, and the MPEG-TS stream's codecs.
    expect(listenCheck.host).toBe('A');
    let listen = { status: null as number | null, stdout: '', stderr: '' };
    await waitFor(() => listen.status === 0 && /#EXTINF/.test(listen.stdout), 20000, 'a playlist with segments, from A', async () => {
      listen = await runBlock(listenCheck.host, listenCheck.text);
      if (listen.status !== 0 || !/#EXTINF/.test(listen.stdout)) await new Promise((r) => setTimeout(r, 500));
    }).catch((e) => {
      throw new Error(`${(e as Error).message}\n${listen.stdout}${listen.stderr}`);
    });
    expect(listen.stdout).toMatch(/^#EXTM3U\n/);
    expect(listen.stdout).toMatch(/^#EXT-X-TARGETDURATION:[12]$/m); // cut at the first keyframe after 1 s
    expect(listen.stdout).toMatch(/^stream,h264$/m);
    expect(listen.stdout).toMatch(/^stream,aac$/m);

    // A segment, over TLS across the hosts: MPEG-TS packets. Without the CA, curl refuses the certificate.
    const seg = (/^(tv\/seg-\d+\.ts)$/m.exec(listen.stdout) as RegExpExecArray)[1];
    const fetched = await runBlock('A', `curl -sS --cacert /srv/fluxcast/certs/ca.pem -o /srv/seg.ts https://${ADDRESS.B}:8443/${seg}`);
    expect(fetched.status).toBe(0);
    const ts = fs.readFileSync(path.join(root.A, 'seg.ts'));
    expect(ts.length).toBeGreaterThan(188 * 10);
    expect(ts.length % 188).toBe(0);
    for (let i = 0; i < ts.length; i += 188) expect(ts[i]).toBe(0x47);
    const untrusted = await runBlock('A', `curl -sS -o /dev/null https://${ADDRESS.B}:8443/tv.m3u8 || echo "curl exit $?"`);
    expect(untrusted.stdout).toBe('curl exit 60\n');
    // The feed from A to B is TLS, with a certificate of the planet's CA.
    const feed = await runBlock('B', `openssl s_client -brief -connect ${ADDRESS.A}:8600 -CAfile /srv/fluxcast/certs/ca.pem -cert /srv/fluxcast/certs/worker-edge.pem -key /srv/fluxcast/certs/worker-edge.key < /dev/null 2>&1`);
    expect(feed.stdout).toMatch(/Verification: OK/);
    expect(feed.stdout).toMatch(/Peer certificate: CN = fluxcast worker studio \(planet tv\)/);

    // The wrong scheme is answered with the line the README shows.
    expect(wrongScheme.host).toBe('B');
    const wrong = await runBlock(wrongScheme.host, wrongScheme.text.split('\n').filter((l) => !l.startsWith('#')).join('\n'));
    expect(wrong.status).toBe(1);
    const said = (/^# (error FLUX_\S+: .*)$/m.exec(wrongScheme.text) as RegExpExecArray)[1];
    expect(wrong.stderr).toBe(`${said}\n`);
  });
});
