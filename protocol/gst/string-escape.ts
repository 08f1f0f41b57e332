// GStreamer's string quoting for structure and caps text (gst_string_wrap / gst_string_unwrap).
// Owns only the escaping rules; the grammar of structures lives in structure.ts.
// Invariant: unwrap(wrap(s)) === s for every JS string s.

/** Characters GStreamer writes without quoting (GST_ASCII_IS_STRING). */
export function isSimpleChar(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) || // 0-9
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x61 && code <= 0x7a) || // a-z
    code === 0x5f || // _
    code === 0x2d || // -
    code === 0x2b || // +
    code === 0x2f || // /
    code === 0x3a || // :
    code === 0x2e // .
  );
}

/**
 * Serializes a string value as GStreamer does: bare when every byte is a simple character
 * (and it is neither empty nor "NULL"), otherwise in double quotes with a backslash before
 * every other printable byte and octal escapes (\ooo) for control and non-ASCII bytes.
 */
export function wrapString(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  let needsWrap = bytes.length === 0 || value === 'NULL';
  for (let i = 0; i < bytes.length && !needsWrap; i++) if (!isSimpleChar(bytes[i])) needsWrap = true;
  if (!needsWrap) return value;
  let out = '"';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (isSimpleChar(c)) out += String.fromCharCode(c);
    else if (c < 0x20 || c >= 0x7f) out += '\\' + ((c >> 6) & 7) + ((c >> 3) & 7) + (c & 7);
    else out += '\\' + String.fromCharCode(c);
  }
  return out + '"';
}

/**
 * Undoes the escapes inside a quoted string (the text between the quotes): `\ooo` is one byte,
 * a backslash before any other character stands for that character. Bytes are read as UTF-8.
 */
export function unwrapString(inner: string): string {
  if (inner.indexOf('\\') < 0) return inner;
  const out: number[] = [];
  const src = Buffer.from(inner, 'utf8');
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c !== 0x5c || i + 1 >= src.length) {
      out.push(c);
      continue;
    }
    const d0 = src[i + 1];
    if (d0 >= 0x30 && d0 <= 0x33 && i + 3 < src.length + 0 && isOctal(src[i + 2]) && isOctal(src[i + 3])) {
      out.push(((d0 - 0x30) << 6) | ((src[i + 2] - 0x30) << 3) | (src[i + 3] - 0x30));
      i += 3;
    } else {
      out.push(d0);
      i += 1;
    }
  }
  return Buffer.from(out).toString('utf8');
}

function isOctal(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x37;
}
