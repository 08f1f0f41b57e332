import { Component } from '../../../actors/component/component';
import { Mood } from '../../../actors/component/mood';

class Probe extends Component<{ failSetup?: boolean }> {
  tornDown = 0;
  protected async setup(): Promise<void> {
    if (this.properties.failSetup) throw new Error('no such device');
  }
  protected async teardown(): Promise<void> {
    this.tornDown++;
  }
}

describe('Component lifecycle and moods', () => {
  it('starts sleeping, wakes, and is happy when it has no eaters', async () => {
    const c = new Probe('p', {});
    const moods: Mood[] = [];
    c.on('mood', (m) => moods.push(m));
    expect(c.mood).toBe('sleeping');
    await c.start();
    expect(moods).toEqual(['waking', 'happy']);
  });

  it('is hungry until every feed flows, and hungry again when one stops', async () => {
    const c = new Probe('p', {});
    c.addFeed('default', '/default/a:default');
    c.addFeed('default', '/default/b:default');
    await c.start();
    expect(c.mood).toBe('hungry');
    c.feedConnected('default', '/default/a:default');
    expect(c.mood).toBe('hungry');
    c.feedConnected('default', '/default/b:default');
    expect(c.mood).toBe('happy');
    c.feedDisconnected('default', '/default/a:default');
    expect(c.mood).toBe('hungry');
    c.feedConnected('default', '/default/a:default');
    expect(c.mood).toBe('happy');
  });

  it('goes sad when setup fails, stays sad, and sleeps after stop', async () => {
    const c = new Probe('p', { failSetup: true });
    await c.start();
    expect(c.mood).toBe('sad');
    expect(c.messages[0]).toMatchObject({ level: 'error', text: 'setup failed: no such device' });
    c.feedConnected('default', 'x');
    expect(c.mood).toBe('sad');
    await c.stop();
    expect(c.mood).toBe('sleeping');
    expect(c.tornDown).toBe(1);
  });

  it('refuses to start unless sleeping', async () => {
    const c = new Probe('p', {});
    await c.start();
    await expect(c.start()).rejects.toThrow(/not sleeping/);
  });
});
