/** What an xlate cache credits, as arrays, for tests (XlateCache.forEachRule makes none). */
import type { XlateCache } from "../../../src/xlate/mod.ts";

/** The rule ids the cache credits, in order. */
export function creditedRules(cache: XlateCache): number[] {
  const out: number[] = [];
  cache.forEachRule((id) => out.push(id));
  return out;
}

/** The bridge of each of `creditedRules(cache)`. */
export function creditedBridges(cache: XlateCache): number[] {
  const out: number[] = [];
  cache.forEachRule((_, bridge) => out.push(bridge));
  return out;
}
