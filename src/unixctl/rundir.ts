/**
 * Where a daemon's control socket lives when none is named: `$UDPIF_RUNDIR`,
 * else `$XDG_RUNTIME_DIR/udpif`, else `/tmp/udpif-UID`, as OVS's daemons
 * and ovs-appctl agree on `ovs_rundir()`. Both sides read it: the daemon
 * to listen, a client to find the daemon.
 */

/** The run directory, without creating it. */
export function rundirPath(): string {
  const explicit = Deno.env.get("UDPIF_RUNDIR");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_RUNTIME_DIR");
  if (xdg) return `${xdg}/udpif`;
  return `/tmp/udpif-${Deno.uid() ?? "user"}`;
}

/** The default control socket: `RUNDIR/udpif.ctl`. */
export function defaultSocketPath(): string {
  return `${rundirPath()}/udpif.ctl`;
}

/**
 * `path` made absolute against the current directory, as OVS's
 * abs_file_name: a detached daemon must still find the files it was given.
 */
export function absolutePath(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}
