import { PGlite } from '@electric-sql/pglite'

/**
 * Postgres's memory settings sized for an embedded, single-process service: the defaults (128 MB
 * of shared buffers, touched at start) alone took ~130 MB of RSS. Table data beyond the buffers
 * is read through the OS page cache, which does not count against the process.
 */
export const pgliteStartParams = [
  ...PGlite.defaultStartParams,
  '-c',
  'shared_buffers=8MB',
  '-c',
  'work_mem=2MB',
  '-c',
  'maintenance_work_mem=16MB',
]
