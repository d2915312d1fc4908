/**
 * A conformance case folder: `flows.txt` (ovs-ofctl add-flows syntax),
 * `packets.txt` (`PORT PKT...`, `! SHELL-CMD`, `#` comments), an optional
 * `args` file with extra ovs-oracle.sh options (shell-quoted, `#` comment
 * lines allowed), and `expected.txt`, the oracle's normalized output.
 *
 * The options are the subset of ovs-oracle.sh's that a replay through
 * udpif can honour; any other option makes the case fail to load, with the
 * option named, rather than replay something different from what OVS ran.
 */

/** The ovs-oracle.sh options a case may carry, with the script's defaults. */
export interface CaseOptions {
  pre: string[];
  post: string[];
  /** Each `--vsctl` value, word-split as the oracle script splits it. */
  vsctl: string[][];
  ports: number;
  /**
   * `--patch-bridge BR:M`: a second bridge BR with ports p(N+1)..p(N+M)
   * (OpenFlow 1..M) and the patch pair patch-BR (br0, N+1) and patch-br0
   * (BR, M+1); null without one.
   */
  patchBridge: { name: string; ports: number } | null;
  ofctlOpts: string[];
  timeStop: boolean;
  waits: number;
  /** Seconds before each coverage snapshot; null: the runner's default. */
  settle: number | null;
  final: boolean;
  coverage: boolean;
}

/** One line of packets.txt, in file order. */
export type PacketStep =
  | { kind: "packets"; port: string; args: string[] }
  | { kind: "shell"; command: string }
  | { kind: "bad"; line: string };

export interface ConformanceCase {
  name: string;
  dir: string;
  flowsFile: string | null;
  packets: PacketStep[];
  options: CaseOptions;
  expected: string;
  /** Why the case cannot be compared reliably (a `# RACY` comment), if it says so. */
  racy: string | null;
}

/**
 * Whether the case's script measures real time: a `sleep` in a shell line
 * or a --pre/--post command (idle expiry in real time, a pause as a lower
 * bound). Such a case is replayed alone, so that other replays running at
 * the same time do not stretch the interval it measures.
 */
export function measuresRealTime(c: ConformanceCase): boolean {
  const sleeps = (command: string) => /(^|[;&|(\s])sleep\s/.test(command);
  return c.packets.some((p) => p.kind === "shell" && sleeps(p.command)) ||
    [...c.options.pre, ...c.options.post].some(sleeps);
}

/**
 * Whether the case ages flows on purpose: it sleeps, warps time or sets
 * max-idle. Any other case ran in OVS well inside max-idle (10 s), so its
 * replay may have all the idle time it needs (replay.ts gives it a day):
 * a loaded machine that takes longer than OVS did must not expire what
 * OVS kept.
 */
export function agesFlows(c: ConformanceCase): boolean {
  const ages = (command: string) => /time\/warp|max-idle/.test(command);
  return measuresRealTime(c) ||
    c.packets.some((p) => p.kind === "shell" && ages(p.command)) ||
    [...c.options.pre, ...c.options.post, ...c.options.vsctl.flat()].some(ages);
}

export function defaultOptions(): CaseOptions {
  return {
    pre: [],
    post: [],
    vsctl: [],
    ports: 3,
    patchBridge: null,
    ofctlOpts: [],
    timeStop: false,
    waits: 2,
    settle: null,
    final: true,
    coverage: true,
  };
}

/** Splits on runs of blanks, as an unquoted bash expansion does. */
export function splitWords(s: string): string[] {
  return s.split(/[ \t\n]+/).filter((w) => w !== "");
}

function needNumber(opt: string, value: string): number {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value)) throw new Error(`${opt} needs a number, got '${value}'`);
  return Number(value);
}

/** Interprets ovs-oracle.sh options (already shell-split). */
export function parseOptions(words: string[]): CaseOptions {
  const o = defaultOptions();
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const value = (): string => {
      if (i + 1 >= words.length) throw new Error(`${w} needs an argument`);
      return words[++i];
    };
    switch (w) {
      case "--pre":
        o.pre.push(value());
        break;
      case "--post":
        o.post.push(value());
        break;
      case "--vsctl":
        o.vsctl.push(splitWords(value()));
        break;
      case "--ports":
        o.ports = needNumber(w, value());
        break;
      case "--patch-bridge": {
        const m = /^([A-Za-z0-9_.-]+):([0-9]+)$/.exec(value());
        if (!m) throw new Error(`${w} needs BRIDGE:NPORTS, got '${words[i]}'`);
        o.patchBridge = { name: m[1], ports: Number(m[2]) };
        break;
      }
      case "--ofctl-opts":
        o.ofctlOpts = splitWords(value());
        break;
      case "--time-stop":
        o.timeStop = true;
        break;
      case "--waits":
        o.waits = needNumber(w, value());
        break;
      case "--settle":
        o.settle = needNumber(w, value());
        break;
      case "--no-final":
        o.final = false;
        break;
      case "--no-coverage":
        o.coverage = false;
        break;
      default:
        throw new Error(`option ${w} is not supported by the udpif replay`);
    }
  }
  return o;
}

/** Parses packets.txt the way ovs-oracle.sh reads it. */
export function parsePackets(text: string): PacketStep[] {
  const steps: PacketStep[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    const trimmed = line.replace(/^[ \t]+/, "");
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    if (trimmed.startsWith("!")) {
      steps.push({ kind: "shell", command: trimmed.slice(1).replace(/^[ \t]+/, "") });
      continue;
    }
    const words = splitWords(trimmed);
    if (words.length < 2) steps.push({ kind: "bad", line });
    else steps.push({ kind: "packets", port: words[0], args: words.slice(1) });
  }
  return steps;
}

/** The reason given on a `# RACY...` comment line of packets.txt or args, if any. */
export function racyReason(...texts: string[]): string | null {
  for (const t of texts) {
    for (const line of t.split("\n")) {
      const m = /^\s*#\s*(RACY\b.*)$/.exec(line);
      if (m) return m[1].trim();
    }
  }
  return null;
}

/** Word-splits an args file with bash itself, exactly as record.sh evaluates it. */
export async function shellSplitArgs(text: string): Promise<string[]> {
  const body = text.split("\n").filter((l) => !/^[ \t]*#/.test(l)).join("\n");
  const out = await new Deno.Command("bash", {
    args: ["-c", 'eval "words=($1)" && printf "%s\\0" "${words[@]}"', "bash", body],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `args: bash could not parse it: ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
  const s = new TextDecoder().decode(out.stdout);
  return s === "" ? [] : s.slice(0, -1).split("\0");
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Loads one case folder. */
export async function loadCase(dir: string): Promise<ConformanceCase> {
  const name = dir.replace(/\/+$/, "").split("/").pop()!;
  const flows = await readIfExists(`${dir}/flows.txt`);
  if (flows === null) throw new Error(`${name}: no flows.txt`);
  const packetsText = (await readIfExists(`${dir}/packets.txt`)) ?? "";
  const argsText = (await readIfExists(`${dir}/args`)) ?? "";
  const expected = await readIfExists(`${dir}/expected.txt`);
  if (expected === null) {
    throw new Error(`${name}: no expected.txt (record it with make conformance-record)`);
  }
  return {
    name,
    dir,
    flowsFile: /\S/.test(flows) ? `${dir}/flows.txt` : null,
    packets: parsePackets(packetsText),
    options: parseOptions(argsText === "" ? [] : await shellSplitArgs(argsText)),
    expected,
    racy: racyReason(packetsText, argsText),
  };
}

/** Every case folder name under `casesDir`, sorted. */
export function listCases(casesDir: string): string[] {
  const names: string[] = [];
  for (const e of Deno.readDirSync(casesDir)) if (e.isDirectory) names.push(e.name);
  return names.sort();
}
