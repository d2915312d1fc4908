/**
 * Whether the mapping that holds `buf` is advised for transparent huge
 * pages: the "hg" flag of its VmFlags in this process's smaps (needs FFI
 * for the buffer's address). Deno grants reading a process's own /proc
 * files only with --allow-all, which `make test` does not give: the file
 * is read by `cat`, a child process (--allow-run).
 */
export function hugePagesAdvised(buf: SharedArrayBuffer): boolean {
  const at = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(new Uint8Array(buf)))) + 4096n;
  let inside = false;
  const smaps = new Deno.Command("cat", { args: [`/proc/${Deno.pid}/smaps`] }).outputSync();
  if (!smaps.success) throw new Error(`cat /proc/${Deno.pid}/smaps failed`);
  for (const line of new TextDecoder().decode(smaps.stdout).split("\n")) {
    const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (range) inside = BigInt(`0x${range[1]}`) <= at && at < BigInt(`0x${range[2]}`);
    else if (inside && line.startsWith("VmFlags:")) return line.split(" ").includes("hg");
  }
  return false;
}
