// Component moods: names and numbers as in Flumotion (and DESIGN.md). Pure data.

export const MOODS = { happy: 0, hungry: 1, waking: 2, sleeping: 3, lost: 4, sad: 5 } as const;
export type Mood = keyof typeof MOODS;
export const MOOD_NAMES = Object.keys(MOODS) as Mood[];

export interface ComponentMessage {
  level: 'error' | 'warning' | 'info';
  text: string;
  /** ms since the epoch */
  time: number;
}
