/**
 * The oracle's output normalizer (`ovs-oracle-normalize.py`), in
 * TypeScript, so that udpif's output and OVS's recorded output are reduced
 * to the same comparable text by the same rules:
 *
 * - ufids removed, `used:N.NNNs` -> `used:0.0s`, ovs-ofctl's `duration=`,
 *   `idle_age=`, `hard_age=` and `(xid=..)` removed, upcall/show's dump
 *   duration -> `<N>ms` and its revalidator thread ids -> `<tid>`;
 * - coverage/show lines reduced to `name total: N`, and the coverage totals
 *   section (lines tagged `cov-total: `) dropped;
 * - inside every `actions:` list, each run of plain output ports sorted
 *   (NORMAL floods in an order that varies between runs);
 * - each contiguous run of datapath-flow lines sorted (the datapath dumps
 *   in ufid-hash order, and ufids are random).
 *
 * Lines are split as Python's universal-newline reader splits them.
 */

const UFID = /\b(?:mega_)?ufid:[0-9a-fA-F-]+,? ?/g;
const USED = /used:[0-9]+(?:\.[0-9]+)?s/g;
const DURATION = / ?duration=[0-9.]+s,/g;
const IDLE_AGE = / idle_age=[0-9]+,/g;
const HARD_AGE = / hard_age=[0-9]+,/g;
const XID = / \(xid=0x[0-9a-fA-F]+\)/g;
const DUMP_DUR = /(dump duration : )[0-9]+ms/g;
const ACTIONS = /(actions:)(\S+?)(?=$|, [a-z-]+:|,? \S+:)/g;
const PLAIN_PORT = /^(?:[0-9]+|[a-zA-Z][a-zA-Z0-9]*)$/;
const REVAL_ID = /^( {2})[0-9]+(: \(keys [0-9]+\))$/;
const COVERAGE = /^([a-z_0-9]+)\s+[0-9.]+\/sec\s+[0-9.]+\/sec\s+[0-9.]+\/sec\s+total: ([0-9]+)$/;

const AVG_FLOWS = /(\(avg )[0-9]+\)/g;

/**
 * For a case replayed on the running clock: upcall/show's average flow
 * count is a mean taken at every dump, and how many periodic dumps fall
 * between two steps depends on how long the steps took (in OVS's run as
 * in udpif's), like the dump duration; it becomes `(avg <N>)`. With the
 * clock stopped only the steps' own dumps count, and it stays.
 */
export function maskRealTimeFigures(text: string): string {
  return text.replace(AVG_FLOWS, "$1<N>)");
}

/** Tag the oracle puts on the coverage-totals lines so that they can be dropped. */
export const COV_TOTAL_TAG = "cov-total: ";
const COV_TOTAL_HEADER = "## ovs-appctl coverage/show (";

/** Splits an action list on the commas that are outside parentheses. */
function splitTopLevel(actions: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of actions) {
    if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
      continue;
    }
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    cur += ch;
  }
  parts.push(cur);
  return parts;
}

/** Numbers first, numerically; then names, by code point. */
function comparePorts(a: string, b: string): number {
  const an = /^[0-9]+$/.test(a);
  const bn = /^[0-9]+$/.test(b);
  if (an !== bn) return an ? -1 : 1;
  if (an) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortPortRuns(prefix: string, list: string): string {
  const out: string[] = [];
  let run: string[] = [];
  for (const p of splitTopLevel(list)) {
    if (PLAIN_PORT.test(p) && p !== "drop") {
      run.push(p);
      continue;
    }
    out.push(...run.sort(comparePorts), p);
    run = [];
  }
  out.push(...run.sort(comparePorts));
  return prefix + out.join(",");
}

/** Normalizes one line (without its newline). */
export function normalizeLine(line: string): string {
  let l = line
    .replace(UFID, "")
    .replace(USED, "used:0.0s")
    .replace(DURATION, "")
    .replace(IDLE_AGE, "")
    .replace(HARD_AGE, "")
    .replace(XID, "")
    .replace(DUMP_DUR, "$1<N>ms")
    .replace(ACTIONS, (_m, prefix: string, list: string) => sortPortRuns(prefix, list))
    .replace(REVAL_ID, "$1<tid>$2");
  const m = COVERAGE.exec(l);
  if (m) l = `${m[1]} total: ${m[2]}`;
  return l;
}

/** A datapath-flow line, as printed by dpctl/dump-flows (not an ovs-ofctl rule). */
export function isDatapathFlow(line: string): boolean {
  return line.includes(", packets:") && line.includes(", bytes:") &&
    line.includes("actions:") && !line.startsWith(" cookie=");
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Splits text into lines the way Python's text-mode stdin iterates them. */
export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Normalizes a whole raw output; the result ends with a newline unless empty. */
export function normalize(raw: string): string {
  const lines = splitLines(raw)
    .filter((l) => !l.startsWith(COV_TOTAL_TAG))
    .map(normalizeLine)
    .filter((l) => !l.startsWith(COV_TOTAL_HEADER));
  const out: string[] = [];
  let run: string[] = [];
  for (const l of lines) {
    if (isDatapathFlow(l)) {
      run.push(l);
      continue;
    }
    out.push(...run.sort(byCodePoint), l);
    run = [];
  }
  out.push(...run.sort(byCodePoint));
  return out.map((l) => l + "\n").join("");
}
