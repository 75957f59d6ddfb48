export * from './ack.ts';
export * from './media.ts';
export * from './conference-events.ts';
export * from './qa-hooks.ts';
