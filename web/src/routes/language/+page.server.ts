import { redirect } from '@sveltejs/kit';
import { LANGUAGE_COOKIE, toLanguage } from '#lib/i18n.ts';
import { safeReturnPath } from '#lib/server/guards.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => redirect(303, '/');

export const actions: Actions = {
  default: async ({ request, cookies }) => {
    const form = await request.formData();
    cookies.set(LANGUAGE_COOKIE, toLanguage(String(form.get('language'))), {
      path: '/',
      httpOnly: false,
      sameSite: 'lax',
      maxAge: 365 * 24 * 3600,
    });
    redirect(303, safeReturnPath(form.get('returnTo'), '/'));
  },
};
