/** An operator's 2FA requirement, as the hot path sees it through a credential's copied state. */
export interface TwoFactorState {
  twoFactorEnabled: boolean
  /** The operator's deadline (epoch ms), or null when 2FA is not required. */
  twoFactorRequiredBy: number | null
}

/**
 * Past the deadline without 2FA, every credential of the account is restricted. Computed against
 * the time of the call, so nothing needs refreshing when a deadline passes.
 */
export function twoFactorSetupOverdue(state: TwoFactorState, nowMs: number): boolean {
  return !state.twoFactorEnabled && state.twoFactorRequiredBy !== null && nowMs >= state.twoFactorRequiredBy
}

/** The deadline still to meet: set, 2FA off. Null when 2FA is on or not required. */
export function twoFactorSetupDeadline(state: TwoFactorState): number | null {
  return state.twoFactorEnabled ? null : state.twoFactorRequiredBy
}

export const maxGraceDays = 90

export function twoFactorDeadline(nowMs: number, graceDays: number): number {
  return nowMs + graceDays * 24 * 60 * 60 * 1000
}
