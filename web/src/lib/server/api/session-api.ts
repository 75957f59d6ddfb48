import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { CHAT_MAX_MESSAGES_PER_SESSION, chatMessageSchema } from '@telemed/contract';
import {
  caseDraftSchema,
  sessionCaseSchema,
  sessionDraftSchema,
  sessionPatchSchema,
  sessionPhase,
  sessionStatuses,
  type Session,
} from '@telemed/domain';
import { INVALID_INPUT, UNAUTHENTICATED, bookingConflictSchema, errorResponses } from './api-response.ts';
import { chatCsvColumns, sessionRecordQuerySchema } from '../session-record.ts';

/** The sessions part of the REST API: the shapes it answers with, and its OpenAPI description. */

export const sessionSummarySchema = z
  .object({
    id: z.uuid(),
    title: z.string(),
    description: z.string(),
    startsAt: z.iso.datetime(),
    endsAt: z.iso.datetime(),
    status: z.enum(sessionStatuses).meta({ description: 'At the time of the answer (live follows the clock)' }),
    hostAccountId: z.uuid(),
    invitedSiteIds: z.array(z.string()),
    invitedAccountIds: z.array(z.uuid()),
    caseCount: z.number().int(),
    recordingAllowed: z.boolean().meta({
      description:
        'Whether the call may be recorded (off unless set). Nothing records yet; a recording may only ever start with this on, and every participant then sees a recording banner',
    }),
    sequence: z.number().int().meta({ description: 'Bumped on every change (the iCalendar SEQUENCE)' }),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'SessionSummary' });
export type SessionSummary = z.infer<typeof sessionSummarySchema>;

export const sessionDetailSchema = sessionSummarySchema
  .extend({ cases: z.array(sessionCaseSchema), createdAt: z.iso.datetime() })
  .meta({ id: 'Session' });

export function sessionSummary(session: Session, now = new Date()): SessionSummary {
  return {
    id: session.id,
    title: session.title,
    description: session.description,
    startsAt: session.startsAt,
    endsAt: session.endsAt,
    status: sessionPhase(session, now),
    hostAccountId: session.hostAccountId,
    invitedSiteIds: session.invitedSiteIds,
    invitedAccountIds: session.invitedAccountIds,
    caseCount: session.cases.length,
    recordingAllowed: session.recordingAllowed,
    sequence: session.sequence,
    updatedAt: session.updatedAt,
  };
}

export function sessionDetail(session: Session, now = new Date()): z.infer<typeof sessionDetailSchema> {
  return { ...sessionSummary(session, now), cases: session.cases, createdAt: session.createdAt };
}

export const sessionRecordSchema = z
  .object({
    exportedAt: z.iso.datetime(),
    session: sessionDetailSchema,
    chat: z.object({
      messages: z.array(chatMessageSchema.meta({ id: 'ChatMessage' })).meta({ description: 'Oldest first' }),
      limit: z.number().int().meta({ description: 'The most messages a session’s chat holds' }),
    }),
  })
  .meta({ id: 'SessionRecord' });

export const sessionListQuerySchema = z.object({
  from: z.iso.datetime({ offset: true }).optional().meta({ description: 'Default: 30 days ago' }),
  to: z.iso.datetime({ offset: true }).optional().meta({ description: 'Default: 180 days ahead' }),
  scope: z
    .enum(['mine', 'all'])
    .default('mine')
    .meta({ description: '`all` (coordinators and admins): every session, for planning' }),
});

export const scheduledSessionSchema = z
  .object({ session: sessionDetailSchema, conflicts: z.array(bookingConflictSchema) })
  .meta({ id: 'ScheduledSession', description: 'The stored session and the double bookings it was allowed to make' });

export const sessionCancellationSchema = z
  .object({ reason: z.string().trim().max(500).default('').meta({ description: 'Kept in the audit trail' }) })
  .meta({ id: 'SessionCancellation' });

const sessionIdParam = z.object({ id: z.uuid() });

const FORBIDDEN = 'Not allowed for this account (also for unknown ids, so ids cannot be probed)';
const CONFLICT =
  '`double_booking` (with `error.conflicts`; resend with `allowDoubleBooking: true`), or the session is cancelled, ended or was changed meanwhile';

export const sessionApiPaths: ZodOpenApiPathsObject = {
  '/api/v1/sessions': {
    get: {
      tags: ['Sessions'],
      summary: 'List sessions overlapping a time range',
      requestParams: { query: sessionListQuerySchema },
      responses: {
        '200': {
          description: 'Sessions, earliest first',
          content: { 'application/json': { schema: z.object({ sessions: z.array(sessionSummarySchema) }) } },
        },
        ...errorResponses({ 400: INVALID_INPUT, 401: UNAUTHENTICATED, 403: FORBIDDEN }),
      },
    },
    post: {
      tags: ['Sessions'],
      summary: 'Schedule a session (coordinators and admins)',
      requestBody: { content: { 'application/json': { schema: sessionDraftSchema.meta({ id: 'SessionDraft' }) } } },
      responses: {
        '201': { description: 'Scheduled', content: { 'application/json': { schema: scheduledSessionSchema } } },
        ...errorResponses({ 400: INVALID_INPUT, 401: UNAUTHENTICATED, 403: FORBIDDEN, 409: CONFLICT }),
      },
    },
  },
  '/api/v1/sessions/{id}': {
    get: {
      tags: ['Sessions'],
      summary: 'One session with its cases (invited accounts, the host’s coordinators, admins)',
      requestParams: { path: sessionIdParam },
      responses: {
        '200': { description: 'The session', content: { 'application/json': { schema: sessionDetailSchema } } },
        ...errorResponses({ 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: 'Unknown session' }),
      },
    },
    patch: {
      tags: ['Sessions'],
      summary: 'Edit or reschedule (the host, coordinators of the host’s site, admins)',
      requestParams: { path: sessionIdParam },
      requestBody: { content: { 'application/json': { schema: sessionPatchSchema.meta({ id: 'SessionPatch' }) } } },
      responses: {
        '200': { description: 'Changed', content: { 'application/json': { schema: scheduledSessionSchema } } },
        ...errorResponses({
          400: INVALID_INPUT,
          401: UNAUTHENTICATED,
          403: FORBIDDEN,
          404: 'Unknown session',
          409: CONFLICT,
        }),
      },
    },
  },
  '/api/v1/sessions/{id}/cancel': {
    post: {
      tags: ['Sessions'],
      summary: 'Cancel (calendars receive STATUS:CANCELLED with a higher SEQUENCE)',
      description: 'The body may be `{}`; like every POST it must be sent as application/json.',
      requestParams: { path: sessionIdParam },
      requestBody: { content: { 'application/json': { schema: sessionCancellationSchema } } },
      responses: {
        '200': { description: 'Cancelled', content: { 'application/json': { schema: sessionDetailSchema } } },
        ...errorResponses({ 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: 'Unknown session', 409: CONFLICT }),
      },
    },
  },
  '/api/v1/sessions/{id}/cases': {
    post: {
      tags: ['Sessions'],
      summary: 'Attach a case (patient reference, studies, consent reference)',
      description:
        'The host, coordinators of the host’s site and admins, until the session is over; while it is live, also the invited coordinators sharing a study from the room’s study browser. Participants in the room see the case at once.',
      requestParams: { path: sessionIdParam },
      requestBody: { content: { 'application/json': { schema: caseDraftSchema.meta({ id: 'CaseDraft' }) } } },
      responses: {
        '201': {
          description: 'Attached',
          content: {
            'application/json': { schema: z.object({ case: sessionCaseSchema, session: sessionDetailSchema }) },
          },
        },
        ...errorResponses({
          400: INVALID_INPUT,
          401: UNAUTHENTICATED,
          403: FORBIDDEN,
          404: 'Unknown session',
          409: CONFLICT,
        }),
      },
    },
  },
  '/api/v1/sessions/{id}/record': {
    get: {
      tags: ['Sessions'],
      summary: 'Download the session’s record: the session, its cases and its chat (the host, whoever manages it)',
      description:
        `During the session or any time after. \`format=csv\` downloads the chat alone as RFC 4180 CSV in UTF-8 with a BOM (columns: ${chatCsvColumns.join(', ')}). ` +
        `A session’s chat holds at most ${CHAT_MAX_MESSAGES_PER_SESSION} messages and none is ever removed. Every download is audited as \`session.record-exported\`.`,
      requestParams: { path: sessionIdParam, query: sessionRecordQuerySchema },
      responses: {
        '200': {
          description: 'The record',
          content: {
            'application/json': { schema: sessionRecordSchema },
            'text/csv': { schema: z.string().meta({ description: 'The chat, with a header row' }) },
          },
        },
        ...errorResponses({ 400: INVALID_INPUT, 401: UNAUTHENTICATED, 403: FORBIDDEN }),
      },
    },
  },
};
