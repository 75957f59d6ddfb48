import { describe, expect, it } from 'vitest';
import { defaultCallPreferences, readCallPreferences, storeCallPreferences } from './call-preferences.ts';

function memoryStorage(initial: Record<string, string> = {}) {
  const values = new Map(Object.entries(initial));
  return {
    getItem: (key: string) => values.get(key) ?? null,
    setItem: (key: string, value: string) => void values.set(key, value),
  };
}

describe('a user’s call preferences', () => {
  it('come back as stored', () => {
    const storage = memoryStorage();
    storeCallPreferences(storage, { layout: 'speaker', videoLimit: 2 });
    expect(readCallPreferences(storage)).toEqual({ layout: 'speaker', videoLimit: 2 });
  });

  it('fall back to the defaults when missing, damaged or out of range', () => {
    expect(readCallPreferences(undefined)).toEqual(defaultCallPreferences);
    expect(readCallPreferences(memoryStorage({ 'telemed.call-preferences': '{not json' }))).toEqual(
      defaultCallPreferences,
    );
    expect(
      readCallPreferences(memoryStorage({ 'telemed.call-preferences': '{"layout":"mosaic","videoLimit":1000}' })),
    ).toEqual(defaultCallPreferences);
    expect(readCallPreferences(memoryStorage({ 'telemed.call-preferences': '{"videoLimit":9}' }))).toEqual({
      layout: 'grid',
      videoLimit: 9,
    });
  });
});
