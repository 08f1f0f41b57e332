// `npm start`: the demo planet on this machine. Starts a manager and two workers as child
// processes on loopback with examples/planets/seed-scenario.yaml, prints what runs where and
// the stream's URL (http://127.0.0.1:8800/live.wav, a 440 Hz tone as µ-law WAV: open it in a
// browser or VLC), and stops everything cleanly on Ctrl-C.

import * as path from 'path';
import { up } from '../cli/up';
import { reportError } from '../cli/errors';

const planet = process.argv[2] ?? path.resolve(__dirname, '../../examples/planets/seed-scenario.yaml');
// npm may exit on SIGTERM without waiting for us: stop everything when it is gone.
up(planet, {}, { stopWhenOrphaned: true }).catch((e) => {
  reportError(e);
  process.exit(1);
});
