/**
 * A property of a plain object whose value is made when first read (or replaced when first written),
 * then is an ordinary writable data property. It stays enumerable and keeps its place among the keys,
 * so JSON, spread, structuredClone and deep equality see the same object as an eager one.
 */
export const lazyProperty = <T extends object, K extends keyof T>(target: T, key: K, make: () => T[K]): T => {
  const settle = (obj: object, value: unknown) => {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true })
    return value
  }
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: true,
    get(this: object) {
      return settle(this, make())
    },
    set(this: object, value: unknown) {
      settle(this, value)
    },
  })
  return target
}
