/** Security labels: the agreed API other modules code against (see docs/labels.md). */
export type { Label, Clearance } from './label.js';
export { normalizeLabel } from './label.js';
export {
  UNCLASSIFIED,
  createLabelScheme,
  setLabelScheme,
  labelScheme,
  labelSchemeConfigSchema,
  type LabelScheme,
  type LabelSchemeConfig,
} from './scheme.js';
export { parseBanner, parsePortion, MAX_MARKING_LENGTH } from './marking-parse.js';
export { renderBanner, renderPortion } from './marking-render.js';
export { canonicalLabel, parseCanonicalLabel } from './canonical.js';
export { dominates, lub, glb } from './lattice.js';
export { canRead, visibleLabelIds, intersectClearance, coversClearance } from './visibility.js';
export { parseAccessExpression, evaluateAccess, type AccessNode } from './access-expression.js';
