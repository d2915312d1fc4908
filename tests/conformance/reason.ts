/**
 * One-line reasons for the conformance table and known_failures.txt: where
 * udpif's output first departs from OVS's (the section and both lines), or
 * why the replay could not run.
 */

const MAX = 200;

function clip(s: string): string {
  const t = s.replaceAll("\t", " ").trim();
  return t.length > MAX ? t.slice(0, MAX - 3) + "..." : t;
}

function lines(text: string): string[] {
  const l = text.split("\n");
  if (l[l.length - 1] === "") l.pop();
  return l;
}

/** Names the first differing line of two normalized outputs and its section. */
export function firstDifference(expected: string, actual: string): string {
  const a = lines(expected);
  const b = lines(actual);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  let section = "(start)";
  for (let k = Math.min(i, a.length - 1); k >= 0; k--) {
    if (a[k].startsWith("## ")) {
      section = a[k].slice(3);
      break;
    }
  }
  const want = i < a.length ? a[i] : "(end of output)";
  const got = i < b.length ? b[i] : "(end of output)";
  return clip(`differs at '${section}': OVS '${clip(want)}', udpif '${clip(got)}'`);
}

/** The first line of an error, for a replay that could not run. */
export function errorReason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return clip(msg.split("\n")[0]);
}
