import type { Migration } from './migration.js';
import { foundation } from './0001-foundation.js';
import { audit } from './0002-audit.js';
import { dataKeys } from './0003-data-keys.js';
import { memory } from './0005-memory.js';
import { conversations } from './0006-conversations.js';
import { runs } from './0007-runs.js';
import { safety } from './0004-safety.js';
import { safetyRequester } from './0008-safety-requester.js';
import { memorySearch } from './0009-memory-search.js';
import { labelDowngrades } from './0010-label-downgrades.js';
import { apiKeyDefaultLabel } from './0012-api-key-default-label.js';
import { memorySealed } from './0011-memory-sealed.js';
import { runLabels } from './0013-run-labels.js';

/** Every migration, in order. Append new ones; never edit one that has shipped. */
export const migrations: readonly Migration[] = [
  foundation,
  audit,
  dataKeys,
  memory,
  conversations,
  runs,
  safety,
  safetyRequester,
  memorySearch,
  labelDowngrades,
  memorySealed,
  apiKeyDefaultLabel,
  runLabels,
];
