import { PROTOCOL_ERROR_CODES } from '../protocol/errors';

describe('error codes', () => {
  it('are unique across layers and follow FLUX_<AREA>_<NAME>', () => {
    const all = [...Object.values(PROTOCOL_ERROR_CODES)];
    expect(new Set(all).size).toBe(all.length);
    for (const code of all) expect(code).toMatch(/^FLUX_[A-Z]+_[A-Z_]+$/);
  });
});
