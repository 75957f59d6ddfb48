export * from './ack.ts';
export * from './media.ts';
export * from './conference-events.ts';
export * from './conference-media.ts';
export * from './joint-read.ts';
export * from './qa-hooks.ts';
