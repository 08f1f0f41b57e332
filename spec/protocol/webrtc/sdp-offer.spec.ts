// Reading WebRTC offers and choosing codecs: what is refused (400) and what fits nothing (406),
// H.264 by packetization mode and profile, and the offer narrowed to the choices.

import { FluxError } from '../../../protocol/errors';
import { advertiseCandidates, chooseFormats, narrowOffer, parseOffer } from '../../../protocol/webrtc/sdp-offer';

const OFFER = [
  'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1', 'a=fingerprint:sha-256 AA:BB',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 108', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789abcdef0123456789', 'a=mid:0', 'a=recvonly',
  'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000', 'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f',
  'a=rtpmap:108 H264/90000', 'a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f', 'a=rtcp-fb:108 nack pli',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789abcdef0123456789', 'a=mid:1', 'a=recvonly', 'a=rtpmap:111 opus/48000/2',
  '',
].join('\r\n');

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as FluxError).code;
  }
  return undefined;
};

describe('SDP offers', () => {
  it('refuses what is no WebRTC offer with FLUX_WEBRTC_BAD_SDP', () => {
    for (const t of ['', 'v=1\r\n', 'v=0\r\nbogus\r\n', 'v=0\r\ns=-\r\n', OFFER.replace(/a=fingerprint.*\r\n/, ''), OFFER.replace(/a=ice-ufrag.*\r\n/g, ''), 'v=0\r\n' + 'a=x\r\n'.repeat(20000)]) {
      expect(codeOf(() => parseOffer(t))).toBe('FLUX_WEBRTC_BAD_SDP');
    }
  });

  it('chooses by codec, packetization mode 1 and profile, in order of preference', () => {
    const o = parseOffer(OFFER);
    expect(chooseFormats(o, [{ kind: 'video', codec: 'vp8' }, { kind: 'audio', codec: 'opus' }], false).map((c) => c.pt)).toEqual([96, 111]);
    expect(chooseFormats(o, [{ kind: 'video', codec: 'h264', profileIdc: '42' }], false).map((c) => c.pt)).toEqual([108]);
    expect(chooseFormats(o, [{ kind: 'video', codec: 'h264', profileIdc: '64' }], false)).toEqual([]);
    // The offerer only receives: nothing to take from it.
    expect(chooseFormats(o, [{ kind: 'video', codec: 'vp8' }], true)).toEqual([]);
  });

  it('narrows the offer to the chosen formats and marks other sections unused', () => {
    const o = parseOffer(OFFER);
    const narrowed = narrowOffer(OFFER, o, chooseFormats(o, [{ kind: 'video', codec: 'h264', profileIdc: '42' }], false));
    expect(narrowed).toMatch(/m=video 9 UDP\/TLS\/RTP\/SAVPF 108\r\n/);
    expect(narrowed).not.toMatch(/rtpmap:96|rtpmap:102|rtpmap:97/);
    expect(narrowed).toMatch(/a=rtcp-fb:108 nack pli/);
    expect(narrowed).toMatch(/m=audio 0 UDP\/TLS\/RTP\/SAVPF 111/);
  });

  it('writes the advertised address into host candidates', () => {
    const answer = 'a=candidate:1 1 udp 2116026367 127.0.0.1 40000 typ host generation 0\r\na=mid:0';
    expect(advertiseCandidates(answer, '203.0.113.7')).toBe('a=candidate:1 1 udp 2116026367 203.0.113.7 40000 typ host generation 0\r\na=mid:0');
  });
});
