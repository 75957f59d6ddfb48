import { fail, redirect } from '@sveltejs/kit';
import { z } from 'zod';
import { webDomain } from '#lib/server/domain.ts';
import { safeReturnPath } from '#lib/server/guards.ts';
import { openSignin } from '#lib/server/signin.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals, url }) => {
  if (locals.account) redirect(303, safeReturnPath(url.searchParams.get('next'), '/sessions'));
};

const signinForm = z.object({
  username: z.string().trim().min(1).max(64),
  password: z.string().min(1).max(256),
});

export const actions: Actions = {
  default: async ({ request, cookies, url, getClientAddress }) => {
    const form = Object.fromEntries(await request.formData());
    const parsed = signinForm.safeParse(form);
    const username = typeof form.username === 'string' ? form.username.slice(0, 64) : '';
    if (!parsed.success) return fail(400, { username, error: 'signInMissing' as const });

    const { accounts, audit } = await webDomain();
    const account = await accounts.authenticate(parsed.data.username, parsed.data.password);
    await audit.record({
      action: account ? 'signin.succeeded' : 'signin.failed',
      actorAccountId: account?.id ?? null,
      ip: getClientAddress(),
      detail: { username: parsed.data.username.toLowerCase() },
    });
    if (!account) return fail(401, { username, error: 'signInFailed' as const });

    await openSignin(cookies, account);
    redirect(303, safeReturnPath(url.searchParams.get('next'), '/sessions'));
  },
};
