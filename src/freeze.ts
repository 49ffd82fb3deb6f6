/**
 * Deep freeze of plain JSON data: what the stores and the redactor hand out as shared, never to be
 * changed in place. Stops at anything already frozen (frozen here means frozen all the way down) and
 * allocates no key arrays: it runs on every commit.
 */
export const deepFreeze = <T>(v: T): T => {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v)
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) deepFreeze(v[i])
    else for (const k in v) deepFreeze((v as Record<string, unknown>)[k])
  }
  return v
}
