/** Fixed lifetimes shared by both ephemeral adapters (this module has no runtime dependencies). */

/** How long a token's last-use record outlives its last use. */
export const tokenUseTtlMs = 30 * 24 * 60 * 60 * 1000

/**
 * After an eviction, `put` is refused this long under that digest: a lookup that missed and read
 * Postgres before the revocation committed must not re-cache the revoked token afterwards.
 */
export const evictionGuardMs = 30_000
