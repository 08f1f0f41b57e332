// `fluxcast component listeners /flow/name [--json]` and `fluxcast component kick /flow/name ID`:
// an http-streamer's listeners (as the manager gets them from the worker running it), and the
// disconnection of one. Refusals print `error CODE: message` and exit 1.

import { FluxError } from '../protocol/errors';
import { LISTENER_ID, ListenerInfoWire } from '../protocol/wire';
import { adminRequest } from '../transport/admin-client';
import { CLI_ERROR_CODES } from './errors';
import { adminCommandSecret } from './secrets';
import { caFor } from './planet';

export interface AdminOptions {
  manager: string;
  secret?: string;
  secretFile?: string;
  caFile?: string;
}

function checkId(id: string): void {
  if (!/^\/[^/\s]+\/[^/\s:]+$/.test(id)) throw new FluxError(CLI_ERROR_CODES.BAD_ARGUMENT, `component ids look like /flow/name, not '${id}'`);
}

/** `1h02m03s`, `4m05s`, `6s`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h}h${String(m).padStart(2, '0')}m${String(sec).padStart(2, '0')}s`;
  if (m) return `${m}m${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/** One line per listener under a header, oldest first. */
export function listenerTable(id: string, list: ListenerInfoWire[], total: number, now = Date.now()): string {
  const rows = list.map((l) => [l.id, l.address, duration(now - l.connectedSince), String(l.bytes), l.userAgent || '-']);
  const head = ['ID', 'ADDRESS', 'CONNECTED', 'BYTES', 'USER AGENT'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  const more = total > list.length ? ` (the ${list.length} oldest shown)` : '';
  return [`${id}: ${total} listener(s)${more}`, ...(rows.length ? [line(head), ...rows.map(line)] : [])].join('\n') + '\n';
}

export async function listenersCommand(id: string, opts: AdminOptions & { json?: boolean }): Promise<number> {
  checkId(id);
  const r = await adminRequest(opts.manager, adminCommandSecret(opts).secret, (requestId) => ({ type: 'listeners-request', requestId, id }), 10000, caFor(opts));
  if (r.type !== 'listeners-result') throw new FluxError(CLI_ERROR_CODES.CANNOT_CONNECT, 'unexpected answer');
  if (!r.ok) {
    process.stderr.write(`error ${r.code ?? 'FLUX_CLI_COMMAND_FAILED'}: ${r.message ?? 'refused'}\n`);
    return 1;
  }
  const listeners = r.listeners ?? [];
  const total = r.total ?? listeners.length;
  process.stdout.write(opts.json ? JSON.stringify({ listeners, total }) + '\n' : listenerTable(id, listeners, total));
  return 0;
}

export async function kickCommand(id: string, listener: string, opts: AdminOptions): Promise<number> {
  checkId(id);
  if (!LISTENER_ID.test(listener)) throw new FluxError(CLI_ERROR_CODES.BAD_ARGUMENT, `listener ids are letters, digits, - and _ (as \`fluxcast component listeners\` shows them), not '${listener}'`);
  const r = await adminRequest(opts.manager, adminCommandSecret(opts).secret, (requestId) => ({ type: 'listener-kick', requestId, id, listener }), 10000, caFor(opts));
  if (r.type !== 'listeners-result') throw new FluxError(CLI_ERROR_CODES.CANNOT_CONNECT, 'unexpected answer');
  if (!r.ok) {
    process.stderr.write(`error ${r.code ?? 'FLUX_CLI_COMMAND_FAILED'}: ${r.message ?? 'refused'}\n`);
    return 1;
  }
  process.stdout.write(`removed listener ${listener} from ${id}\n`);
  return 0;
}
