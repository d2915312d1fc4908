/**
 * Transparent huge pages for the large shared tables (the datapath's
 * flow tables and upcall queues, the ukey table): madvise(MADV_HUGEPAGE)
 * over a buffer, so that the kernel backs it with 2 MB pages where it
 * can. The tables are read and written at random slots, one or two cache
 * lines a flow, so 4 KB pages cost a TLB miss on most accesses and a page
 * fault for every ~50 new flows as a table first fills (a queue: every
 * 4 KB of its first pass); on the benches' VM a 4 KB fault is
 * ~15-26 us, a 64 MB buffer's first touch 279 ms against 20 ms advised.
 * Memory is still only taken as it is touched, 2 MB at a time: a table
 * sized for a million flows holding a thousand costs a huge page or two
 * per region in use, not its size.
 * Best effort: without FFI permission, or where madvise fails (a kernel
 * without THP, "never" in /sys/kernel/mm/transparent_hugepage/enabled),
 * the buffer stays as it was.
 *
 * Thread-safety: the advice is on the process's mapping, so one call (on
 * the thread that creates the buffer) covers every thread that maps it.
 */
import { libc } from "./libc.ts";

const MADV_HUGEPAGE = 14;
const PAGE = 4096n;
/** Smaller buffers would fill less than a huge page or two: not worth a call. */
const MIN_BYTES = 4 << 20;

/** Advises huge pages for `buf`'s page-aligned interior; false when not applied. */
export function adviseHugePages(buf: SharedArrayBuffer): boolean {
  if (buf.byteLength < MIN_BYTES) return false;
  if (
    Deno.build.os !== "linux" || Deno.permissions.querySync({ name: "ffi" }).state !== "granted"
  ) {
    return false;
  }
  const start = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(new Uint8Array(buf))));
  const from = (start + PAGE - 1n) & ~(PAGE - 1n);
  const to = (start + BigInt(buf.byteLength)) & ~(PAGE - 1n);
  return libc().madvise(Deno.UnsafePointer.create(from), to - from, MADV_HUGEPAGE) === 0;
}
