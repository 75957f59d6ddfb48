import { InputError, type AuditOutcome } from '@telemed/domain';
import { auditAs, type Actor as AdminActor } from '../actor.ts';

/** One audit entry for an administrative action: the actor, their site, where from, on what. */
export async function auditAdministration(
  actor: AdminActor,
  action: string,
  target: string | undefined,
  outcome: AuditOutcome,
  detail?: Record<string, unknown>,
): Promise<void> {
  await auditAs(actor, { action, outcome, ...(target ? { target } : {}), ...(detail ? { detail } : {}) });
}

/**
 * Runs a change; refused input is audited as a failure (which fields, never their values) and
 * thrown on, so the caller answers it as usual.
 */
export async function auditedChange<T>(
  actor: AdminActor,
  action: string,
  target: string | undefined,
  change: () => Promise<T>,
): Promise<T> {
  try {
    return await change();
  } catch (caught) {
    if (caught instanceof InputError) {
      await auditAdministration(actor, action, target, 'failure', {
        fields: caught.issues.map((issue) => `${issue.field}:${issue.code}`),
      });
    }
    throw caught;
  }
}
