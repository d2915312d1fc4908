/**
 * The daemon's run directory: made (mode 0700) on first use, and refused
 * if another user owns it, so a socket in it cannot be replaced by someone
 * else. Where it is comes from the unixctl layer (`rundirPath`).
 */
import { rundirPath } from "../unixctl/mod.ts";

/**
 * Creates the run directory (mode 0700) if needed. The default directory
 * must belong to this user and is tightened to 0700; a directory named by
 * `UDPIF_RUNDIR` is the user's choice and only has to exist.
 */
export async function ensureRundir(): Promise<string> {
  const dir = rundirPath();
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await Deno.stat(dir);
  if (!info.isDirectory) throw new Error(`${dir}: not a directory`);
  if (!Deno.env.get("UDPIF_RUNDIR")) {
    const uid = Deno.uid();
    if (uid !== null && info.uid !== null && info.uid !== uid) {
      throw new Error(`${dir}: owned by uid ${info.uid}, not by this user (uid ${uid})`);
    }
    if (((info.mode ?? 0) & 0o077) !== 0) await Deno.chmod(dir, 0o700);
  }
  return dir;
}
