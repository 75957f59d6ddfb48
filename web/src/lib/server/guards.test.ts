import { describe, expect, it } from 'vitest';
import { safeReturnPath } from './guards.ts';

describe('safeReturnPath', () => {
  it('follows same-site paths', () => {
    expect(safeReturnPath('/sessions/3f6c2a1e?x=1', '/')).toBe('/sessions/3f6c2a1e?x=1');
  });

  it('refuses anything that could leave the site', () => {
    for (const value of ['https://evil.example', '//evil.example', '/\\evil.example', 'sessions', '/a b', null, 42]) {
      expect(safeReturnPath(value, '/sessions')).toBe('/sessions');
    }
  });
});
