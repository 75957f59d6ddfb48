export * from './ack.ts';
export * from './media.ts';
export * from './conference-events.ts';
export * from './joint-read.ts';
export * from './qa-hooks.ts';
export * from './chat.ts';
export * from './floor-control.ts';
export * from './recording-consent.ts';
