// GstCaps text (gst_caps_from_string / gst_caps_to_string of GStreamer 1.22): ANY, EMPTY, or
// structures separated by ';', each optionally with caps features in parentheses after its name.
// Owns caps-level helpers (media type, streamheader); structure grammar is in structure.ts.

import { GstParseError } from '../errors';
import { GstStructure, StructureParser } from './structure';

export interface CapsEntry {
  readonly structure: GstStructure;
  readonly features?: string;
}

export class GstCaps {
  constructor(
    readonly entries: readonly CapsEntry[],
    readonly special: 'ANY' | 'EMPTY' | null = null,
  ) {}

  static parse(text: string): GstCaps {
    const trimmed = text.trim();
    if (trimmed === 'ANY') return new GstCaps([], 'ANY');
    if (trimmed === 'EMPTY' || trimmed === 'NONE' || trimmed === '') return new GstCaps([], 'EMPTY');
    const p = new StructureParser(text);
    const entries: CapsEntry[] = [];
    for (;;) {
      const s = p.structure(true);
      const plain = new GstStructure(s.name, s.fields);
      entries.push(s.features !== undefined ? { structure: plain, features: s.features } : { structure: plain });
      p.skipSpaces();
      if (p.atEnd()) break;
      if (p.peek() !== ';') throw new GstParseError("expected ';' between caps structures", p.pos);
      p.pos++;
      p.skipSpaces();
      if (p.atEnd()) break;
    }
    return new GstCaps(entries);
  }

  /** First structure, the one that describes a fixed stream. */
  get first(): GstStructure | undefined {
    return this.entries[0]?.structure;
  }

  get mediaType(): string | undefined {
    return this.first?.name;
  }

  /** The `streamheader` buffers of the first structure, or [] when there are none. */
  streamheader(): Buffer[] {
    return this.first?.getBuffers('streamheader') ?? [];
  }

  toString(): string {
    if (this.special) return this.special;
    return this.entries
      .map((e) => e.structure.name + (e.features !== undefined ? `(${e.features})` : '') + e.structure.serializeFields())
      .join('; ');
  }
}
