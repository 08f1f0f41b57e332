// Where the command line finds its secrets, and the rules they follow. Two secrets, two roles:
// the workers' secret (worker logins and feeds between workers) and the admins' secret (the CLI,
// the API, the web admin); neither opens the other's door. Each is at least 16 characters,
// wherever it comes from; a missing, empty or short one is a coded error naming its source.

import * as fs from 'fs';
import { FluxError } from '../protocol/errors';
import { PlanetConfig } from '../protocol/planet';
import { CLI_ERROR_CODES } from './errors';

export const MIN_SECRET_LENGTH = 16;

export interface Secret {
  secret: string;
  /** Where it came from, for errors and hints: "--secret", "FLUXCAST_SECRET", "the planet's manager.secret"... */
  source: string;
  file?: string;
}

type Candidate = { source: string; value?: string; file?: string };

function pick(candidates: Candidate[], what: string, hint: string): Secret {
  for (const c of candidates) {
    let value = c.value;
    if (c.file !== undefined) {
      try {
        value = fs.readFileSync(c.file, 'utf8').trim();
      } catch (e) {
        throw new FluxError(CLI_ERROR_CODES.CANNOT_READ, `cannot read the ${what} file '${c.file}' (${c.source}): ${(e as NodeJS.ErrnoException).code ?? e}`);
      }
    }
    if (value === undefined) continue;
    if (value.length < MIN_SECRET_LENGTH) {
      throw new FluxError(
        CLI_ERROR_CODES.SECRET_TOO_SHORT,
        `the ${what} from ${c.source} is ${value.length ? `${value.length} characters long` : 'empty'}; it must have at least ${MIN_SECRET_LENGTH}`,
      );
    }
    return { secret: value, source: c.source, file: c.file };
  }
  throw new FluxError(CLI_ERROR_CODES.NO_SECRET, `no ${what}: ${hint}`);
}

/** The workers' secret: --secret, --secret-file, $FLUXCAST_SECRET, then the planet's secret-file, secret. */
export function workerSecret(opts: { secret?: string; secretFile?: string }, planet?: PlanetConfig): Secret {
  return pick(
    [
      { source: '--secret', value: opts.secret },
      { source: '--secret-file', file: opts.secretFile },
      { source: 'FLUXCAST_SECRET', value: process.env.FLUXCAST_SECRET },
      { source: "the planet's manager.secret-file", file: planet?.manager['secret-file'] },
      { source: "the planet's manager.secret", value: planet?.manager.secret },
    ].filter((c) => c.value !== undefined || c.file !== undefined),
    'secret',
    'use --secret, --secret-file or FLUXCAST_SECRET' + (planet ? ', or set manager.secret in the planet' : ''),
  );
}

/** The admins' secret for the manager: --admin-secret(-file), $FLUXCAST_ADMIN_SECRET, the planet's. */
export function managerAdminSecret(opts: { adminSecret?: string; adminSecretFile?: string }, planet?: PlanetConfig): Secret {
  return pick(
    [
      { source: '--admin-secret', value: opts.adminSecret },
      { source: '--admin-secret-file', file: opts.adminSecretFile },
      { source: 'FLUXCAST_ADMIN_SECRET', value: process.env.FLUXCAST_ADMIN_SECRET },
      { source: "the planet's manager.admin-secret-file", file: planet?.manager['admin-secret-file'] },
      { source: "the planet's manager.admin-secret", value: planet?.manager['admin-secret'] },
    ].filter((c) => c.value !== undefined || c.file !== undefined),
    'admin secret',
    'use --admin-secret, --admin-secret-file or FLUXCAST_ADMIN_SECRET, or set manager.admin-secret in the planet',
  );
}

/** The admin secret an admin command (status, component, reload) logs in with: --secret, --secret-file, $FLUXCAST_ADMIN_SECRET, $FLUXCAST_SECRET. */
export function adminCommandSecret(opts: { secret?: string; secretFile?: string }): Secret {
  return pick(
    [
      { source: '--secret', value: opts.secret },
      { source: '--secret-file', file: opts.secretFile },
      { source: 'FLUXCAST_ADMIN_SECRET', value: process.env.FLUXCAST_ADMIN_SECRET },
      { source: 'FLUXCAST_SECRET', value: process.env.FLUXCAST_SECRET },
    ].filter((c) => c.value !== undefined || c.file !== undefined),
    'admin secret',
    'use --secret, --secret-file, FLUXCAST_ADMIN_SECRET or FLUXCAST_SECRET (the admin secret)',
  );
}
