// Reads systemd unit files and turns an Exec line into the argv systemd would run: specifiers
// (%i, %d, ...) replaced, `${VAR}` as one word, a lone `$VAR` split on whitespace into words
// (systemd.service(5), "Command lines"), with the environment of Environment= and EnvironmentFile=.

import * as fs from 'fs';

export type Unit = Map<string, Map<string, string[]>>;

/** Sections → keys → values (a key given twice keeps both, in order; an empty value resets). */
export function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[([^\]]+)\]$/.exec(line);
    if (head) {
      section = unit.get(head[1]) ?? new Map();
      unit.set(head[1], section);
      continue;
    }
    const kv = /^([A-Za-z0-9]+)\s*=\s*(.*)$/.exec(line);
    if (!kv || !section) throw new Error(`not a unit file line: ${raw}`);
    const [, key, value] = kv;
    section.set(key, value === '' ? [] : [...(section.get(key) ?? []), value]);
  }
  return unit;
}

export function values(unit: Unit, section: string, key: string): string[] {
  return unit.get(section)?.get(key) ?? [];
}

/** KEY=VALUE lines of an environment file (comments and blank lines skipped, quotes removed). */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`not an environment file line: ${raw}`);
    env[m[1]] = m[2].replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  return env;
}

/** The environment a service gets: Environment= first, then each EnvironmentFile= (read through `files`). */
export function serviceEnvironment(unit: Unit, files: (path: string) => string | null, specifiers: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const assignment of values(unit, 'Service', 'Environment')) {
    for (const m of assignment.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) env[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  }
  for (const entry of values(unit, 'Service', 'EnvironmentFile')) {
    const optional = entry.startsWith('-');
    const file = specify(optional ? entry.slice(1) : entry, specifiers);
    const text = files(file) ?? (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null);
    if (text === null) {
      if (!optional) throw new Error(`EnvironmentFile ${file} missing`);
      continue;
    }
    Object.assign(env, parseEnvironmentFile(text));
  }
  return env;
}

/** Replaces %X specifiers; an unknown one is an error (the test would not run what systemd runs). */
export function specify(text: string, specifiers: Record<string, string>): string {
  return text.replace(/%(.)/g, (_, c: string) => {
    if (c === '%') return '%';
    if (!(c in specifiers)) throw new Error(`specifier %${c} not known to this test`);
    return specifiers[c];
  });
}

/** An Exec= line as argv: specifiers, then words, then `${VAR}` in words and lone `$VAR` split. */
export function execArgv(line: string, specifiers: Record<string, string>, env: Record<string, string>): string[] {
  const cmd = specify(line.replace(/^[-@:+!]+/, ''), specifiers);
  const words = [...cmd.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
  return words.flatMap((w) => {
    const lone = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(w);
    if (lone) return (env[lone[1]] ?? '').split(/\s+/).filter(Boolean);
    return [w.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, k: string) => env[k] ?? '')];
  });
}
