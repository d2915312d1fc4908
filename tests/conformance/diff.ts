/**
 * A unified diff of two texts (expected vs. actual), for failure messages
 * a person can read: `---`/`+++` headers, `@@` hunks with three lines of
 * context. Longest-common-subsequence based; the texts are case outputs of
 * at most a few hundred lines.
 */

type Op = { tag: " " | "-" | "+"; line: string };

function lines(text: string): string[] {
  const l = text.split("\n");
  if (l[l.length - 1] === "") l.pop();
  return l;
}

function editScript(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: length of the LCS of a[i..] and b[j..].
  const lcs: Uint32Array[] = [];
  for (let i = 0; i <= n; i++) lcs.push(new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ tag: " ", line: a[i++] });
      j++;
    } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push({ tag: "-", line: a[i++] });
    } else {
      ops.push({ tag: "+", line: b[j++] });
    }
  }
  return ops;
}

/** The unified diff, or "" when the texts are equal. */
export function unifiedDiff(
  expected: string,
  actual: string,
  labels: [string, string] = ["expected", "actual"],
  context = 3,
): string {
  if (expected === actual) return "";
  const ops = editScript(lines(expected), lines(actual));
  const changed = ops.map((o, k) => (o.tag !== " " ? k : -1)).filter((k) => k >= 0);
  if (changed.length === 0) {
    // Same lines, different line endings (a missing final newline).
    return `--- ${labels[0]}\n+++ ${labels[1]}\n(the texts differ only in their final newline)\n`;
  }
  const out = [`--- ${labels[0]}`, `+++ ${labels[1]}`];
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k] - context);
    let end = Math.min(ops.length, changed[k] + context + 1);
    while (k + 1 < changed.length && changed[k + 1] - context <= end) {
      k++;
      end = Math.min(ops.length, changed[k] + context + 1);
    }
    k++;
    let aLine = 1;
    let bLine = 1;
    for (let p = 0; p < start; p++) {
      if (ops[p].tag !== "+") aLine++;
      if (ops[p].tag !== "-") bLine++;
    }
    const hunk = ops.slice(start, end);
    const aCount = hunk.filter((o) => o.tag !== "+").length;
    const bCount = hunk.filter((o) => o.tag !== "-").length;
    out.push(
      `@@ -${aCount ? aLine : aLine - 1},${aCount} +${bCount ? bLine : bLine - 1},${bCount} @@`,
    );
    for (const o of hunk) out.push(o.tag + o.line);
  }
  return out.join("\n") + "\n";
}
