/**
 * `known_failures.txt`: one `CASE<TAB>reason` line per recorded case that
 * udpif does not reproduce yet, `#` comments and blank lines allowed. A
 * listed case is registered as an ignored test with its reason in the
 * name, so the test run stays green while the README's table stays honest.
 */

export function parseKnownFailures(text: string): Map<string, string> {
  const out = new Map<string, string>();
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (/^\s*(#|$)/.test(line)) return;
    const tab = line.indexOf("\t");
    if (tab <= 0 || line.slice(tab + 1).trim() === "") {
      throw new Error(`known_failures.txt:${i + 1}: expected CASE<TAB>reason, got '${line}'`);
    }
    const name = line.slice(0, tab).trim();
    if (out.has(name)) throw new Error(`known_failures.txt:${i + 1}: ${name} is listed twice`);
    out.set(name, line.slice(tab + 1).trim());
  });
  return out;
}

export function readKnownFailures(path: string): Map<string, string> {
  try {
    return parseKnownFailures(Deno.readTextFileSync(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return new Map();
    throw e;
  }
}
