/**
 * Whether the mapping that holds `buf` is advised for transparent huge
 * pages: the "hg" flag of its VmFlags in /proc/self/smaps (needs FFI for
 * the buffer's address).
 */
export function hugePagesAdvised(buf: SharedArrayBuffer): boolean {
  const at = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(new Uint8Array(buf)))) + 4096n;
  let inside = false;
  for (const line of Deno.readTextFileSync("/proc/self/smaps").split("\n")) {
    const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (range) inside = BigInt(`0x${range[1]}`) <= at && at < BigInt(`0x${range[2]}`);
    else if (inside && line.startsWith("VmFlags:")) return line.split(" ").includes("hg");
  }
  return false;
}
