/**
 * Which rows a reader may see: one tenant and the label ids its clearance dominates (computed by the
 * runtime from src/labels). Repositories apply it inside the WHERE clause, so an invisible row is never
 * read, counted or paged over — it simply does not exist for that reader.
 */
export interface ReadScope {
  tenantId: string;
  labelIds: readonly string[];
}

/** A value no label id (`lbl_<hex>`) can take: `IN ()` is not valid SQL; NUL is refused by PostgreSQL. */
const NO_LABEL = '!no-visible-label';

/** The scope's label ids for an `IN (…)` clause; never empty. */
export const scopeLabelIds = (scope: ReadScope): string[] =>
  scope.labelIds.length ? [...scope.labelIds] : [NO_LABEL];
