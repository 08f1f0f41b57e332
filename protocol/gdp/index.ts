// Public face of the GDP codec: packets, frames, encoder, incremental decoder, sticky state.
export * from './packet';
export * from './crc';
export * from './frame';
export * from './encoder';
export * from './decoder';
export * from './sticky';
export * from './frames';
