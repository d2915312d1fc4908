/**
 * The switch's `other_config`, the settings `ovs-vsctl set Open_vSwitch .
 * other_config:KEY=VALUE` changes in OVS: given at start-up with
 * `--other-config`, changed at run time with `config/set`. Only keys that
 * udpif acts on are accepted, so a typo is an error rather than a silent
 * no-op; values are checked before anything changes.
 *
 * Thread-safety: main thread; listeners (the bridge) forward changes to
 * workers.
 */
import { OVS_COMPAT_NAMES } from "../upcall/mod.ts";

/**
 * A setting's bounds; `undefined` default means "computed by its user"
 * (thread counts). A `bool` setting is written `true` or `false` and held
 * as 1 or 0; a `hex` one is a hexadecimal number (with or without 0x);
 * a `choices` one is one of its words, held as its index.
 */
interface KeySpec {
  min: number;
  max: number;
  default: number | undefined;
  help: string;
  bool?: true;
  hex?: true;
  /** The words a choice setting takes, held as their index. */
  choices?: readonly string[];
}

const UINT32_MAX = 0xffff_ffff;

export const OTHER_CONFIG_KEYS: Readonly<Record<string, KeySpec>> = {
  "flow-limit": { min: 0, max: UINT32_MAX, default: 200000, help: "datapath flow limit" },
  "max-idle": { min: 0, max: UINT32_MAX, default: 10000, help: "idle flow timeout (ms)" },
  "max-revalidator": {
    min: 0,
    max: UINT32_MAX,
    default: 500,
    help: "longest time between revalidations (ms)",
  },
  "min-revalidate-pps": {
    min: 0,
    max: UINT32_MAX,
    default: 5,
    help: "packets/s below which a flow is not revalidated but deleted",
  },
  "n-handler-threads": {
    min: 0,
    max: 1024,
    default: undefined,
    help: "handler threads (0 = auto)",
  },
  "n-revalidator-threads": {
    min: 0,
    max: 1024,
    default: undefined,
    help: "revalidator threads (0 = auto)",
  },
  "emc-insert-inv-prob": {
    min: 0,
    max: UINT32_MAX,
    default: 100,
    help: "EMC insertion 1-in-N (0 = never)",
  },
  "smc-enable": {
    min: 0,
    max: 1,
    default: 0,
    help: "signature match cache between EMC and dpcls (true/false)",
    bool: true,
  },
  "ovs-compat": {
    min: 0,
    max: OVS_COMPAT_NAMES.length - 1,
    default: 0,
    help: "OVS release to behave as where releases differ (latest or 3.1)",
    choices: OVS_COMPAT_NAMES,
  },
  "vlan-limit": {
    min: 0,
    max: UINT32_MAX,
    default: 1,
    help: "VLAN headers flows see (0 = as many as a flow holds)",
  },
  "pmd-cpu-mask": {
    min: 1,
    max: 0xffff,
    default: undefined,
    help: "PMD threads, one per core whose bit is set (hex; read at start)",
    hex: true,
  },
  "n-pmd-threads": {
    min: 1,
    max: 16,
    default: 1,
    help: "PMD threads on cores 0..N-1 when no pmd-cpu-mask (read at start)",
  },
  "pmd-rxq-assign": {
    min: 0,
    max: 2,
    default: 0,
    help: "rx queue to PMD assignment: cycles, roundrobin or group",
    choices: ["cycles", "roundrobin", "group"],
  },
  "pmd-rxq-isolate": {
    min: 0,
    max: 1,
    default: 1,
    help: "a PMD with pinned rx queues polls only those (false only with group)",
    bool: true,
  },
};

export class OtherConfigError extends Error {
  override name = "OtherConfigError";
}

export type OtherConfigListener = (changed: ReadonlyMap<string, number | undefined>) => void;

/** Parses one `KEY=VALUE` (an empty VALUE removes the key, back to its default). */
export function parseSetting(text: string): [string, number | undefined] {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new OtherConfigError(`"${text}": expected KEY=VALUE`);
  const key = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  const spec = OTHER_CONFIG_KEYS[key];
  if (!spec) {
    throw new OtherConfigError(
      `unknown other_config key "${key}" (known: ${Object.keys(OTHER_CONFIG_KEYS).join(", ")})`,
    );
  }
  if (raw === "") return [key, undefined];
  if (spec.bool) {
    if (raw === "true" || raw === "false") return [key, raw === "true" ? 1 : 0];
    throw new OtherConfigError(`other_config:${key}: "${raw}" is not true or false`);
  }
  if (spec.choices) {
    const i = spec.choices.indexOf(raw);
    if (i >= 0) return [key, i];
    throw new OtherConfigError(
      `other_config:${key}: "${raw}" is not one of ${spec.choices.join(", ")}`,
    );
  }
  if (spec.hex) {
    const n = /^(0x)?[0-9a-f]+$/i.test(raw) ? parseInt(raw.replace(/^0x/i, ""), 16) : NaN;
    if (!(n >= spec.min && n <= spec.max)) {
      throw new OtherConfigError(
        `other_config:${key}: "${raw}" is not a hexadecimal mask between ${spec.min} and 0x${
          spec.max.toString(16)
        }`,
      );
    }
    return [key, n];
  }
  if (!/^[0-9]+$/.test(raw) || Number(raw) < spec.min || Number(raw) > spec.max) {
    throw new OtherConfigError(
      `other_config:${key}: "${raw}" is not an integer between ${spec.min} and ${spec.max}`,
    );
  }
  return [key, Number(raw)];
}

export class OtherConfig {
  readonly #values = new Map<string, number>();
  readonly #listeners: OtherConfigListener[] = [];

  /** The value set for `key`, else its default (undefined for auto thread counts). */
  get(key: string): number | undefined {
    const spec = OTHER_CONFIG_KEYS[key];
    if (!spec) throw new OtherConfigError(`unknown other_config key "${key}"`);
    return this.#values.get(key) ?? spec.default;
  }

  /**
   * The explicitly set keys and values (true/false for a bool key, the
   * word for a choice, 0x... for a mask), sorted by key.
   */
  explicit(): Array<[string, number | boolean | string]> {
    return [...this.#values.entries()]
      .map(([k, v]): [string, number | boolean | string] => {
        const spec = OTHER_CONFIG_KEYS[k];
        if (spec.bool) return [k, v === 1];
        if (spec.choices) return [k, spec.choices[v]];
        return [k, spec.hex ? `0x${v.toString(16)}` : v];
      })
      .sort(([a], [b]) => (a < b ? -1 : 1));
  }

  /**
   * Applies `KEY=VALUE` settings all together, or none of them if any is
   * bad, then tells the listeners which values changed.
   */
  set(settings: string[]): void {
    const parsed = settings.map(parseSetting);
    const changed = new Map<string, number | undefined>();
    for (const [key, value] of parsed) {
      const before = this.get(key);
      if (value === undefined) this.#values.delete(key);
      else this.#values.set(key, value);
      if (this.get(key) !== before) changed.set(key, this.get(key));
    }
    if (changed.size) { for (const l of this.#listeners) l(changed); }
  }

  /** Calls `listener` after every `set` that changes something. */
  onChange(listener: OtherConfigListener): void {
    this.#listeners.push(listener);
  }
}
