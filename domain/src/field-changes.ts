/** What a change did, field by field (nested fields as `contact.phone`), for the audit trail. */
export type FieldChanges = Record<string, { from: unknown; to: unknown }>;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The fields of `after` that differ from `before`; `omit` leaves out fields never to be shown. */
export function fieldChanges(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  omit: readonly string[] = [],
  prefix = '',
): FieldChanges {
  const changes: FieldChanges = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (omit.includes(key)) continue;
    const from = before[key];
    const to = after[key];
    if (isPlainObject(from) && isPlainObject(to))
      Object.assign(changes, fieldChanges(from, to, omit, `${prefix}${key}.`));
    else if (JSON.stringify(from) !== JSON.stringify(to)) changes[`${prefix}${key}`] = { from, to };
  }
  return changes;
}
