import type { RequestEvent } from '@sveltejs/kit';
import { describe, expect, it } from 'vitest';
import { obligationResponse } from './signin-obligation.ts';

const request = (path: string, method = 'GET') =>
  ({
    url: new URL(`http://localhost${path}`),
    request: new Request(`http://localhost${path}`, { method }),
  }) as RequestEvent;

describe('obligations after sign-in', () => {
  it('lets everything through when nothing is pending', () => {
    expect(obligationResponse(request('/sessions'), null)).toBeNull();
  });

  it('sends pages to the password page, coming back afterwards', () => {
    const response = obligationResponse(request('/sessions/abc?x=1'), 'change-password')!;
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/account/password?next=%2Fsessions%2Fabc%3Fx%3D1');
    expect(obligationResponse(request('/admin/accounts', 'POST'), 'enrol-totp')!.headers.get('location')).toBe(
      '/account/security?next=%2Fsessions',
    );
  });

  it('leaves open the pages that fulfil it, sign-out, language and the token routes', () => {
    for (const path of ['/account/password', '/account/security', '/logout', '/language', '/api/v1/auth/revoke']) {
      expect(obligationResponse(request(path, 'POST'), 'enrol-totp')).toBeNull();
    }
    expect(obligationResponse(request('/account/passwords'), 'enrol-totp')).not.toBeNull();
  });

  it('refuses API calls with a typed 403', async () => {
    const response = obligationResponse(request('/api/v1/sessions'), 'enrol-totp')!;
    expect(response.status).toBe(403);
    const body = await response.json();
    expect(body.error.code).toBe('forbidden');
    expect(body.error.message).toContain('second factor');
  });
});
