import { PROTOCOL_ERROR_CODES } from '../protocol/errors';
import { LISTEN_ERROR_CODES, SCHEME_ERROR_CODES, TLS_ERROR_CODES, TRANSPORT_ERROR_CODES } from '../transport/errors';
import { CLI_ERROR_CODES } from '../cli/errors';
import { API_ERROR_CODES } from '../admin/errors';
import { SUPERVISION_ERROR_CODES } from '../actors/supervision/errors';
import { WEBRTC_ERROR_CODES } from '../protocol/webrtc/errors';

describe('error codes', () => {
  it('are unique across layers and follow FLUX_<AREA>_<NAME>', () => {
    const all = [...Object.values(PROTOCOL_ERROR_CODES), ...Object.values(TRANSPORT_ERROR_CODES), ...Object.values(LISTEN_ERROR_CODES), ...Object.values(TLS_ERROR_CODES), ...Object.values(SCHEME_ERROR_CODES), ...Object.values(CLI_ERROR_CODES), ...Object.values(API_ERROR_CODES), ...Object.values(SUPERVISION_ERROR_CODES), ...Object.values(WEBRTC_ERROR_CODES)];
    expect(new Set(all).size).toBe(all.length);
    for (const code of all) expect(code).toMatch(/^FLUX_[A-Z]+_[A-Z_]+$/);
  });
});
