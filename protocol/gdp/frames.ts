// Packets made into frames by encoding them: how fluxcast's own components produce GDP.
import { GdpFrame } from './frame';
import { GdpPacketInput, encodePacket } from './encoder';
import { GdpCrcOptions } from './packet';

export function toFrame(p: GdpPacketInput, crc?: GdpCrcOptions): GdpFrame {
  const bytes = encodePacket(p, crc);
  const text = p.kind === 'caps' ? p.caps : p.kind === 'event' ? p.structure : null;
  return new GdpFrame(bytes, text);
}
