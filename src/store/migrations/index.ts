import type { Migration } from './migration.js';
import { foundation } from './0001-foundation.js';
import { dataKeys } from './0003-data-keys.js';
import { memory } from './0005-memory.js';
import { conversations } from './0006-conversations.js';

/** Every migration, in order. Append new ones; never edit one that has shipped. */
export const migrations: readonly Migration[] = [foundation, dataKeys, memory, conversations];
