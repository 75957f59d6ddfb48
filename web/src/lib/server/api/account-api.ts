import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { accountDraftSchema, accountPatchSchema } from '@telemed/domain';
import { accountListFilterSchema } from '../admin/account-administration.ts';
import { accountViewSchema } from '../admin/account-views.ts';
import { INVALID_INPUT, UNAUTHENTICATED, errorResponses } from './api-response.ts';

/** The accounts part of the REST API's OpenAPI description (routes: web/src/routes/api/v1/accounts). */

const accountIdParam = z.object({ id: z.uuid() });
const accountAnswer = (description: string) => ({
  description,
  content: { 'application/json': { schema: accountViewSchema } },
});
const ADMINS_ONLY = 'Not an admin';
const UNKNOWN = 'Unknown account';

export const deactivationReportSchema = z
  .object({
    account: accountViewSchema,
    endedSessionIds: z.array(z.uuid()).meta({ description: 'Live sessions the account hosted, ended now' }),
    cancelledSessionIds: z.array(z.uuid()).meta({ description: 'Upcoming sessions it hosted, cancelled' }),
  })
  .meta({ id: 'DeactivationReport' });

export const passwordResetSchema = z
  .object({
    account: accountViewSchema,
    temporaryPassword: z.string().meta({
      description: 'Tell it to the person; it is shown only in this answer. They must choose their own at sign-in.',
    }),
  })
  .meta({ id: 'PasswordReset' });

export const accountApiPaths: ZodOpenApiPathsObject = {
  '/api/v1/accounts': {
    get: {
      tags: ['Accounts'],
      summary: 'List accounts (admins; coordinators read-only, to invite people)',
      description:
        'Coordinators get the directory fields only (id, username, displayName, siteId, roles, active); admins also get the account’s state. Never a password hash or second-factor secret.',
      requestParams: { query: accountListFilterSchema },
      responses: {
        '200': {
          description: 'Matching accounts, by username',
          content: { 'application/json': { schema: z.object({ accounts: z.array(accountViewSchema) }) } },
        },
        ...errorResponses({ 400: INVALID_INPUT, 401: UNAUTHENTICATED, 403: 'Neither an admin nor a coordinator' }),
      },
    },
    post: {
      tags: ['Accounts'],
      summary: 'Create an account for one person (admins)',
      description:
        'Individual accounts only: one person, one site. The person must change the initial password at first sign-in. Audited as `account.created` (never with the password).',
      requestBody: { content: { 'application/json': { schema: accountDraftSchema.meta({ id: 'AccountDraft' }) } } },
      responses: {
        '201': accountAnswer('Created'),
        ...errorResponses({
          400: `${INVALID_INPUT}: \`unknown_site\` on \`siteId\`, \`taken\` on \`username\`, password policy on \`password\` (10–256 characters, not the username)`,
          401: UNAUTHENTICATED,
          403: ADMINS_ONLY,
        }),
      },
    },
  },
  '/api/v1/accounts/{id}': {
    get: {
      tags: ['Accounts'],
      summary: 'One account (admins; coordinators read-only)',
      requestParams: { path: accountIdParam },
      responses: {
        '200': accountAnswer('The account'),
        ...errorResponses({ 401: UNAUTHENTICATED, 403: 'Neither an admin nor a coordinator', 404: UNKNOWN }),
      },
    },
    patch: {
      tags: ['Accounts'],
      summary: 'Change name, site or roles (admins)',
      description:
        'Only the fields given change. The username never changes. Admins cannot remove their own admin role (409). Audited as `account.updated` with what changed.',
      requestParams: { path: accountIdParam },
      requestBody: { content: { 'application/json': { schema: accountPatchSchema.meta({ id: 'AccountPatch' }) } } },
      responses: {
        '200': accountAnswer('Changed'),
        ...errorResponses({
          400: INVALID_INPUT,
          401: UNAUTHENTICATED,
          403: ADMINS_ONLY,
          404: UNKNOWN,
          409: 'The change would remove your own admin role',
        }),
      },
    },
  },
  '/api/v1/accounts/{id}/password-reset': {
    post: {
      tags: ['Accounts'],
      summary: 'Reset the password to a temporary one (admins)',
      description:
        'The old password stops working. The temporary password is in this answer only. Audited as `account.password-reset`.',
      requestParams: { path: accountIdParam },
      responses: {
        '200': { description: 'Reset', content: { 'application/json': { schema: passwordResetSchema } } },
        ...errorResponses({ 401: UNAUTHENTICATED, 403: ADMINS_ONLY, 404: UNKNOWN }),
      },
    },
  },
  '/api/v1/accounts/{id}/deactivate': {
    post: {
      tags: ['Accounts'],
      summary: 'Deactivate (admins): sign-ins and calls end at once',
      description:
        'The account can no longer sign in and its sign-ins and API tokens stop working; its conference connections are dropped; live sessions it hosts end and upcoming ones are cancelled. Safe to repeat. Audited as `account.deactivated`.',
      requestParams: { path: accountIdParam },
      responses: {
        '200': { description: 'Deactivated', content: { 'application/json': { schema: deactivationReportSchema } } },
        ...errorResponses({
          401: UNAUTHENTICATED,
          403: ADMINS_ONLY,
          404: UNKNOWN,
          409: 'Your own account (ask another admin)',
        }),
      },
    },
  },
  '/api/v1/accounts/{id}/activate': {
    post: {
      tags: ['Accounts'],
      summary: 'Activate again (admins)',
      description: 'Sessions cancelled at deactivation stay cancelled. Audited as `account.activated`.',
      requestParams: { path: accountIdParam },
      responses: {
        '200': accountAnswer('Active'),
        ...errorResponses({ 401: UNAUTHENTICATED, 403: ADMINS_ONLY, 404: UNKNOWN }),
      },
    },
  },
};
