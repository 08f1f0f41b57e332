// File names for recordings: a small strftime subset (%Y %m %d %H %M %S %s %%, local time)
// plus {ext}. Anything that could leave the directory (a '/' or '..') is refused.

import { FluxError } from '../../protocol/errors';
import { TRANSPORT_ERROR_CODES } from '../errors';

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

export function formatFilename(template: string, when: Date, ext: string): string {
  const out = template.replace(/%([YmdHMSs%])/g, (_, c: string) => {
    switch (c) {
      case 'Y':
        return String(when.getFullYear());
      case 'm':
        return pad(when.getMonth() + 1);
      case 'd':
        return pad(when.getDate());
      case 'H':
        return pad(when.getHours());
      case 'M':
        return pad(when.getMinutes());
      case 'S':
        return pad(when.getSeconds());
      case 's':
        return String(Math.floor(when.getTime() / 1000));
      default:
        return '%';
    }
  }).replace(/\{ext\}/g, ext);
  if (!out || out.includes('/') || out.includes('\0') || out === '.' || out === '..') {
    throw new FluxError(TRANSPORT_ERROR_CODES.DISK_BAD_TEMPLATE, `filename template '${template}' does not give a plain file name`);
  }
  return out;
}
