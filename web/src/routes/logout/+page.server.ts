import { redirect } from '@sveltejs/kit';
import { webDomain } from '#lib/server/domain.ts';
import { closeSignin } from '#lib/server/signin.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => redirect(303, '/');

export const actions: Actions = {
  default: async ({ cookies, locals, getClientAddress }) => {
    if (locals.account) {
      const { audit } = await webDomain();
      await audit.record({
        action: 'signout',
        actorAccountId: locals.account.id,
        target: `account:${locals.account.id}`,
        outcome: 'success',
        siteId: locals.account.siteId,
        ip: getClientAddress(),
        detail: { channel: 'web' },
      });
    }
    await closeSignin(cookies);
    redirect(303, '/login');
  },
};
