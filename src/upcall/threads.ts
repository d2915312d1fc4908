/**
 * How many handler and revalidator threads to run (udpif_set_threads):
 * with neither configured, a quarter of the cores plus one revalidate and
 * the rest handle upcalls; a configured count takes its share first.
 */

/** Thread counts for `cores` CPU cores; 0 means "not configured". */
export function threadCounts(
  nHandlers: number,
  nRevalidators: number,
  cores: number,
): { handlers: number; revalidators: number } {
  const threads = Math.max(cores, 2);
  let revalidators = Math.max(nRevalidators, 0);
  let handlers = Math.max(nHandlers, 0);
  if (!revalidators) {
    revalidators = handlers ? Math.max(threads - handlers, 1) : Math.floor(threads / 4) + 1;
  }
  if (!handlers) handlers = Math.max(threads - revalidators, 1);
  return { handlers, revalidators };
}

/** The machine's core count (count_cpu_cores). */
export function countCpuCores(): number {
  return navigator.hardwareConcurrency || 1;
}
