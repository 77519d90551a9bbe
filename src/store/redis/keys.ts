/**
 * Every Redis key latchkey writes. The braces are Cluster hash tags: keys that one Lua script
 * touches together share a tag, so a cluster would place them in one slot.
 */
export const redisKeys = {
  session: (digest: string) => `lk:{s:${digest}}`,
  accountSessions: (accountId: string) => `lk:{a:${accountId}}:sessions`,
  attemptBox: (namespace: string, key: string) => `lk:{b:${namespace}:${key}}`,
  attemptBoxClaim: (namespace: string, key: string) => `lk:{b:${namespace}:${key}}:claim`,
  counter: (key: string) => `lk:{l:${key}}`,
  escalatingCount: (key: string) => `lk:{l:${key}}:fails`,
  escalatingLock: (key: string) => `lk:{l:${key}}:lock`,
  token: (digest: string) => `lk:{t:${digest}}`,
  tokenUse: (digest: string) => `lk:{t:${digest}}:use`,
  tokenFlush: (digest: string) => `lk:{t:${digest}}:flush`,
  tokenEvicted: (digest: string) => `lk:{t:${digest}}:evicted`,
  tokenUnknown: (digest: string) => `lk:{t:${digest}}:unknown`,
} as const
