/** Python sets have no order: compare them (in toPlain/canon JSON) as sorted lists of their members' JSON. */
export function normalizeSets(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(normalizeSets);
  if (x && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    if (Array.isArray(o.set)) return { set: (o.set as unknown[]).map(normalizeSets).map((v) => JSON.stringify(v)).sort() };
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, normalizeSets(v)]));
  }
  return x;
}
