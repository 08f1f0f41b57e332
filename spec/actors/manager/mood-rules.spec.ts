// The planet's mood rules: the table row by row, then every (mood × wanted × worker × event)
// combination against the rules' invariants, then random event sequences.
import fc from 'fast-check';
import { ComponentFacts, MoodEvent, moodTransition } from '../../../actors/manager/mood-rules';
import { MOOD_NAMES, Mood } from '../../../actors/component/mood';

const facts = (mood: Mood, wanted = true, workerUp = true): ComponentFacts => ({ mood, wanted, workerUp });

const EVENTS: MoodEvent[] = [
  { type: 'start' },
  { type: 'stop' },
  { type: 'restart' },
  ...MOOD_NAMES.map((mood) => ({ type: 'adopt-running' as const, mood })),
  { type: 'adopt-absent' },
  ...MOOD_NAMES.map((mood) => ({ type: 'report' as const, mood })),
  { type: 'report-absent' },
  { type: 'worker-up' },
  { type: 'worker-stopped' },
  { type: 'worker-lost' },
];

const ALL_FACTS: ComponentFacts[] = MOOD_NAMES.flatMap((mood) => [true, false].flatMap((wanted) => [true, false].map((workerUp) => facts(mood, wanted, workerUp))));

describe('mood rules: the table', () => {
  it.each([
    ['sleeping', { type: 'start' }, 'waking', ['send-start', 'wire']],
    ['lost', { type: 'start' }, 'waking', ['send-start', 'wire']],
    ['sad', { type: 'start' }, 'waking', ['send-stop', 'send-start', 'wire']],
    ['happy', { type: 'stop' }, 'sleeping', ['send-stop', 'forget-report']],
    ['hungry', { type: 'restart' }, 'waking', ['send-stop', 'forget-report', 'send-start', 'wire']],
    ['waking', { type: 'report', mood: 'happy' }, 'happy', []],
    ['happy', { type: 'report', mood: 'hungry' }, 'hungry', []],
    ['happy', { type: 'report-absent' }, 'waking', ['send-start', 'wire']],
    ['waking', { type: 'report-absent' }, 'waking', []],
    ['lost', { type: 'adopt-running', mood: 'happy' }, 'happy', []],
    ['lost', { type: 'adopt-absent' }, 'waking', ['send-start']],
  ] as Array<[Mood, MoodEvent, Mood, string[]]>)('from %s (wanted, worker up) on %j: %s, effects %j', (from, event, to, effects) => {
    const t = moodTransition(facts(from), event);
    expect(t.refused).toBeUndefined();
    expect(t.facts.mood).toBe(to);
    expect(t.effects).toEqual(effects);
  });

  it.each(['happy', 'hungry', 'waking'] as Mood[])('refuses start from %s with a code, changing nothing', (mood) => {
    const f = facts(mood);
    const t = moodTransition(f, { type: 'start' });
    expect(t.refused?.code).toBe('FLUX_MANAGER_BAD_STATE');
    expect(t.facts).toEqual(f);
    expect(t.effects).toEqual([]);
  });

  it('marks the components of a killed worker lost, but keeps sleeping and sad', () => {
    expect(moodTransition(facts('happy'), { type: 'worker-lost' }).facts).toEqual(facts('lost', true, false));
    expect(moodTransition(facts('sleeping', false), { type: 'worker-lost' }).facts.mood).toBe('sleeping');
    expect(moodTransition(facts('sad'), { type: 'worker-lost' }).facts.mood).toBe('sad');
  });

  it('stops an adopted component nobody wants, and starts a wanted one that is not running', () => {
    expect(moodTransition(facts('lost', false), { type: 'adopt-running', mood: 'happy' })).toEqual({ facts: facts('sleeping', false), effects: ['send-stop'] });
    expect(moodTransition(facts('sleeping', false), { type: 'adopt-absent' })).toEqual({ facts: facts('sleeping', false), effects: [] });
    expect(moodTransition(facts('sad'), { type: 'adopt-absent' })).toEqual({ facts: facts('sad'), effects: [] });
  });

  it('starts again a running component its worker no longer reports, unless nobody wants it', () => {
    expect(moodTransition(facts('hungry'), { type: 'report-absent' })).toEqual({ facts: facts('waking'), effects: ['send-start', 'wire'] });
    expect(moodTransition(facts('happy', false), { type: 'report-absent' })).toEqual({ facts: facts('sleeping', false), effects: [] });
  });

  it('leaves a start for a worker that is away to its login: lost stays lost, sad becomes sleeping', () => {
    expect(moodTransition(facts('lost', false, false), { type: 'start' })).toEqual({ facts: facts('lost', true, false), effects: [] });
    expect(moodTransition(facts('sad', false, false), { type: 'start' })).toEqual({ facts: facts('sleeping', true, false), effects: [] });
  });
});

describe('mood rules: every combination', () => {
  const cases = ALL_FACTS.flatMap((f) => EVENTS.map((e) => [f, e] as const));

  it(`holds the invariants for all ${ALL_FACTS.length} × ${EVENTS.length} combinations`, () => {
    expect(cases.length).toBe(24 * EVENTS.length);
    for (const [f, e] of cases) {
      const t = moodTransition(f, e);
      const where = `${JSON.stringify(f)} on ${JSON.stringify(e)}`;
      expect({ where, ok: MOOD_NAMES.includes(t.facts.mood) }).toEqual({ where, ok: true });
      // Nothing is sent to a worker that is away.
      if (!t.facts.workerUp) expect({ where, effects: t.effects.filter((x) => x.startsWith('send')) }).toEqual({ where, effects: [] });
      // A refusal changes nothing; only start is ever refused, and only from a running mood.
      if (t.refused) expect({ where, same: t.facts === f || JSON.stringify(t.facts) === JSON.stringify(f), effects: t.effects, start: e.type === 'start' && ['happy', 'hungry', 'waking'].includes(f.mood) }).toEqual({ where, same: true, effects: [], start: true });
      // A start is sent only to a wanted component, and it is waking then.
      if (t.effects.includes('send-start')) expect({ where, mood: t.facts.mood, wanted: t.facts.wanted }).toEqual({ where, mood: 'waking', wanted: true });
      // Stop means sleeping and not wanted.
      if (e.type === 'stop') expect({ where, f: t.facts }).toEqual({ where, f: { mood: 'sleeping', wanted: false, workerUp: f.workerUp } });
      // Sad is sticky against everything but an operator, the worker's own report and a clean worker stop.
      if (f.mood === 'sad' && ['adopt-absent', 'report-absent', 'worker-lost', 'worker-up'].includes(e.type)) expect({ where, mood: t.facts.mood }).toEqual({ where, mood: 'sad' });
      // The manager never invents happy or hungry: those come from a report.
      if (t.facts.mood !== f.mood && (t.facts.mood === 'happy' || t.facts.mood === 'hungry')) expect({ where, reported: 'mood' in e && e.mood === t.facts.mood }).toEqual({ where, reported: true });
      // Losing a worker never shows a component as running.
      if (e.type === 'worker-lost') expect({ where, running: ['happy', 'hungry', 'waking'].includes(t.facts.mood) }).toEqual({ where, running: false });
      if (e.type === 'worker-stopped') expect({ where, mood: t.facts.mood }).toEqual({ where, mood: 'sleeping' });
    }
  });

  it('lets an operator bring any component back to happy from any state once its worker is up', () => {
    for (const f of ALL_FACTS) {
      let s = f;
      for (const e of [{ type: 'worker-up' }, { type: 'restart' }, { type: 'report', mood: 'happy' }] as MoodEvent[]) s = moodTransition(s, e).facts;
      expect({ from: f, mood: s.mood, wanted: s.wanted }).toEqual({ from: f, mood: 'happy', wanted: true });
    }
  });

  it('follows the worker\'s own events and never shows a component running on a worker that is away, over random sequences', () => {
    const event = fc.constantFrom(...EVENTS);
    fc.assert(
      fc.property(fc.constantFrom(...ALL_FACTS.filter((f) => f.workerUp || ['sleeping', 'lost', 'sad'].includes(f.mood))), fc.array(event, { maxLength: 40 }), (start, events) => {
        let s = start;
        let up = start.workerUp;
        for (const e of events) {
          s = moodTransition(s, e).facts;
          if (e.type === 'worker-up') up = true;
          if (e.type === 'worker-stopped' || e.type === 'worker-lost') up = false;
          if (s.workerUp !== up) return false;
          if (!up && ['happy', 'hungry', 'waking'].includes(s.mood)) return false; // running on a worker that is away
        }
        return true;
      }),
      { numRuns: 2000 },
    );
  });
});
