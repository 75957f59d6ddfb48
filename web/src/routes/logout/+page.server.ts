import { redirect } from '@sveltejs/kit';
import { auditAs } from '#lib/server/actor.ts';
import { closeSignin } from '#lib/server/signin.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => redirect(303, '/');

export const actions: Actions = {
  default: async ({ cookies, locals, getClientAddress }) => {
    if (locals.account) {
      await auditAs(
        { account: locals.account, ip: getClientAddress() },
        { action: 'signout', target: `account:${locals.account.id}`, outcome: 'success', detail: { channel: 'web' } },
      );
    }
    await closeSignin(cookies);
    redirect(303, '/login');
  },
};
