import type { ExpressionBuilder, ExpressionWrapper, SqlBool } from 'kysely';

/**
 * Which rows a reader may see: one tenant and the label ids its clearance dominates (computed by the
 * runtime from src/labels). Repositories apply it inside the WHERE clause, so an invisible row is never
 * read, counted or paged over — it simply does not exist for that reader.
 */
export interface ReadScope {
  tenantId: string;
  labelIds: readonly string[];
}

/** A value no label id can take: `IN ()` is not valid SQL, so an empty scope matches this instead. */
const NO_LABEL = '\u0000none';

export const scopeLabelIds = (scope: ReadScope): string[] => (scope.labelIds.length ? [...scope.labelIds] : [NO_LABEL]);

/** `tenant_id = ? AND label_id IN (…)` on the table aliased `table`. */
export function visibleTo<DB, TB extends keyof DB & string>(
  eb: ExpressionBuilder<DB, TB>,
  scope: ReadScope,
  table: TB,
): ExpressionWrapper<DB, TB, SqlBool> {
  const ref = eb.ref as unknown as (c: string) => Parameters<typeof eb.eb>[0];
  return eb.and([
    eb(ref(`${table}.tenant_id`), '=', scope.tenantId),
    eb(ref(`${table}.label_id`), 'in', scopeLabelIds(scope)),
  ]) as ExpressionWrapper<DB, TB, SqlBool>;
}
