// What a stream says about itself in its tag events, as an http-streamer keeps it for its
// listeners, its status and Icecast's /status-json.xsl: the title (`artist - title`) and the
// last MAX_TITLES titles with their times, the stream's name, description and genre (GStreamer's
// `organization`, `description` and `genre` tags: an Icecast source's ice-* headers travel down
// a chain this way) and its nominal bitrate. Bounded: MAX_TITLES entries of MAX_TITLE_LENGTH.

import { GstStructure } from '../../protocol/gst/structure';

export interface TitleEntry {
  title: string;
  /** When it arrived (ms since the epoch). */
  time: number;
}

/** What one tag event carries that we use. */
export interface TagInfo {
  title?: string;
  name?: string;
  description?: string;
  genre?: string;
  /** bits per second (`nominal-bitrate`, else `bitrate`) */
  bitrate?: number;
}

export const MAX_TITLES = 50;
export const MAX_TITLE_LENGTH = 512;
/** Names, descriptions and genres are kept to this many characters. */
export const MAX_INFO_LENGTH = 1024;

/** The taglist of a GDP tag event's structure text, or null when it has none (or is not one). */
function taglist(text: string | null): GstStructure | null {
  if (!text) return null;
  try {
    return GstStructure.parse(text).getStructure('taglist') ?? null;
  } catch {
    return null;
  }
}

/** "artist - title" (or the title alone) from a GDP tag event's structure text, or null without a title. */
export function streamTitle(text: string | null): string | null {
  return tagInfo(text).title ?? null;
}

/** The fields of a tag event we use (none when it is not a tag list). */
export function tagInfo(text: string | null): TagInfo {
  const list = taglist(text);
  if (!list) return {};
  const info: TagInfo = {};
  const str = (name: string) => {
    const v = list.getString(name);
    return v === undefined || v === '' ? undefined : v.slice(0, MAX_INFO_LENGTH);
  };
  const title = list.getString('title');
  if (title !== undefined) {
    const artist = list.getString('artist');
    info.title = artist ? `${artist} - ${title}` : title;
  }
  info.name = str('organization');
  info.description = str('description');
  info.genre = str('genre');
  const bitrate = list.getNumber('nominal-bitrate') ?? list.getNumber('bitrate');
  if (bitrate !== undefined && Number.isFinite(bitrate) && bitrate > 0) info.bitrate = bitrate;
  for (const k of Object.keys(info) as Array<keyof TagInfo>) if (info[k] === undefined) delete info[k];
  return info;
}

export class StreamInfo {
  name?: string;
  description?: string;
  genre?: string;
  bitrate?: number;
  /** The titles the stream had, oldest first (empty titles are not kept). */
  readonly titles: TitleEntry[] = [];
  /** The title now ('' when the stream cleared it), undefined before any. */
  title: string | undefined;
  /** When the current stream started (its stream-start, or its first caps); null before any. */
  streamStart: number | null = null;

  private streamStartText: string | null = null;

  /**
   * A stream-start event. The same one again (an eater that reconnected to the same stream is
   * primed with it) changes nothing; a new stream starts over: its tags tell its name, genre,
   * bitrate and title afresh (the title history stays).
   */
  streamStarted(text: string | null, now = Date.now()): void {
    if (text !== null && text === this.streamStartText) return;
    this.streamStartText = text;
    this.streamStart = now;
    this.name = this.description = this.genre = this.bitrate = this.title = undefined;
  }

  /** Caps arrived: the stream has started if nothing said so yet. */
  caps(now = Date.now()): void {
    this.streamStart ??= now;
  }

  /** Takes a tag event's text; returns the new title when the title changed, else null. */
  tag(text: string | null, now = Date.now()): string | null {
    const t = tagInfo(text);
    if (t.name !== undefined) this.name = t.name;
    if (t.description !== undefined) this.description = t.description;
    if (t.genre !== undefined) this.genre = t.genre;
    if (t.bitrate !== undefined) this.bitrate = t.bitrate;
    if (t.title === undefined || t.title === this.title) return null;
    this.title = t.title;
    const short = t.title.slice(0, MAX_TITLE_LENGTH);
    if (short && short !== this.titles[this.titles.length - 1]?.title) {
      this.titles.push({ title: short, time: now });
      if (this.titles.length > MAX_TITLES) this.titles.shift();
    }
    return t.title;
  }
}
