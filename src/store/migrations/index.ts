import type { Migration } from './migration.js';
import { foundation } from './0001-foundation.js';

/** Every migration, in order. Append new ones; never edit one that has shipped. */
export const migrations: readonly Migration[] = [foundation];
