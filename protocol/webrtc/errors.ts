// Error codes of fluxcast's WebRTC endpoints (WHEP out, WHIP in): each refusal an HTTP client
// gets carries one of these in its JSON body, and a component that cannot serve its stream says
// which. Codes are stable; messages may change.

export const WEBRTC_ERROR_CODES = {
  /** The body is not an SDP offer we can read (400). */
  BAD_SDP: 'FLUX_WEBRTC_BAD_SDP',
  /** The offer has no codec we can send (WHEP) or take (WHIP), or not the stream's profile (406). */
  NO_CODEC: 'FLUX_WEBRTC_NO_CODEC',
  /** Not `Content-Type: application/sdp` (415). */
  BAD_CONTENT_TYPE: 'FLUX_WEBRTC_BAD_CONTENT_TYPE',
  /** The body is larger than an offer can be (413). */
  BODY_TOO_LARGE: 'FLUX_WEBRTC_BODY_TOO_LARGE',
  /** No valid Bearer token (401). */
  UNAUTHORIZED: 'FLUX_WEBRTC_UNAUTHORIZED',
  /** `client-limit` sessions already, or offers under way past the bound (503). */
  TOO_MANY_SESSIONS: 'FLUX_WEBRTC_TOO_MANY_SESSIONS',
  /** WHIP: a publisher is on already (409). */
  BUSY: 'FLUX_WEBRTC_BUSY',
  /** No such session (DELETE of a session that ended) (404). */
  NO_SUCH_SESSION: 'FLUX_WEBRTC_NO_SUCH_SESSION',
  /** Another path (404). */
  NOT_FOUND: 'FLUX_WEBRTC_NOT_FOUND',
  /** A method the endpoint does not take (405). */
  METHOD_NOT_ALLOWED: 'FLUX_WEBRTC_METHOD_NOT_ALLOWED',
  /** The stream has not started (no caps yet) (503). */
  NO_STREAM: 'FLUX_WEBRTC_NO_STREAM',
  /** The WebRTC stack could not make the session (500). */
  SESSION_FAILED: 'FLUX_WEBRTC_SESSION_FAILED',
  /** The video eaten has B-frames (reordered frames), which WebRTC cannot carry. */
  B_FRAMES: 'FLUX_WEBRTC_B_FRAMES',
  /** The eaten stream's codec is none WebRTC carries here (H.264, VP8, Opus). */
  UNSUPPORTED_CODEC: 'FLUX_WEBRTC_UNSUPPORTED_CODEC',
} as const;

export type WebrtcErrorCode = (typeof WEBRTC_ERROR_CODES)[keyof typeof WEBRTC_ERROR_CODES];
