// Runs a real Icecast 2 server in tests (a server to relay from, a peer to compare with).
// In CI (CI=true) a missing icecast2 fails the suite; elsewhere the tests are skipped with a notice.

import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

export const ICECAST_BIN = ['/usr/bin/icecast2', '/usr/bin/icecast'].find((b) => fs.existsSync(b));

export function describeIcecast(name: string, fn: () => void): void {
  if (ICECAST_BIN || process.env.CI) {
    describe(name, () => {
      beforeAll(() => {
        if (!ICECAST_BIN) throw new Error('icecast2 is required in CI (apt-get install icecast2)');
      });
      fn();
    });
  } else {
    console.warn(`NOTICE: icecast2 not installed; skipping "${name}"`);
    describe.skip(name, fn);
  }
}

export interface Icecast {
  port: number;
  password: string;
  child: ChildProcess;
  /** Resolves once it accepts connections. */
  ready(): Promise<void>;
  kill(): Promise<void>;
  cleanup(): void;
}

/** Starts icecast2 on `port` with source password `password` (as nobody when run as root). */
export function startIcecast(port: number, password: string, dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-icecast-'))): Icecast {
  fs.chmodSync(dir, 0o777);
  const asRoot = process.getuid?.() === 0;
  fs.writeFileSync(
    path.join(dir, 'icecast.xml'),
    `<icecast>
  <location>loopback</location><admin>test@localhost</admin><hostname>127.0.0.1</hostname>
  <limits><clients>100</clients><sources>4</sources><source-timeout>10</source-timeout><burst-size>65536</burst-size></limits>
  <authentication><source-password>${password}</source-password><admin-user>admin</admin-user><admin-password>${password}</admin-password></authentication>
  <listen-socket><port>${port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <fileserve>0</fileserve>
  <paths><basedir>${dir}</basedir><logdir>${dir}</logdir><webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>2</loglevel></logging>
  <security><chroot>0</chroot>${asRoot ? '<changeowner><user>nobody</user><group>nogroup</group></changeowner>' : ''}</security>
</icecast>
`,
  );
  const child = spawn(ICECAST_BIN ?? 'icecast2', ['-c', path.join(dir, 'icecast.xml')], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    port,
    password,
    child,
    ready: async () => {
      const until = Date.now() + 10000;
      for (;;) {
        const ok = await new Promise<boolean>((r) => {
          const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
          s.on('error', () => r(false));
        });
        if (ok) return;
        if (Date.now() > until) throw new Error(`icecast did not listen on ${port}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
