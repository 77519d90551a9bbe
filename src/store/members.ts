/** Names of `object`'s methods, own or inherited (Object.prototype's aside). */
export function methodNames(object: object): string[] {
  const names = new Set<string>()
  for (
    let level: object | null = object;
    level !== null && level !== Object.prototype;
    level = Object.getPrototypeOf(level)
  )
    for (const name of Object.getOwnPropertyNames(level))
      if (name !== 'constructor' && typeof Reflect.get(object, name) === 'function') names.add(name)
  return [...names]
}

/**
 * `store` with `overrides` in place of some methods; every other method is forwarded to `store`
 * itself, own or inherited (a spread would copy only own members, and lose a class's methods).
 */
export function overriding<S extends object>(store: S, overrides: Partial<S>): S {
  const forwarded: Record<string, unknown> = {}
  for (const name of methodNames(store)) forwarded[name] = (...args: unknown[]) => callMethod(store, name, args)
  return Object.assign(forwarded, overrides) as S
}

/** Calls `object[name]` as it is now (a method replaced since, as fault tests do, is the one called). */
export function callMethod(object: object, name: string, args: unknown[]): unknown {
  return Reflect.apply(Reflect.get(object, name) as (...args: unknown[]) => unknown, object, args)
}
