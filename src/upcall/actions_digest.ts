/**
 * A 96-bit digest of a datapath action list, which a ukey keeps instead of
 * the actions themselves: revalidation only asks "are the freshly
 * translated actions the ones installed?" (ofpbuf_equal in OVS). The digest
 * is two independent 32-bit hashes and the action count.
 */
import { encodeActions, type OdpAction } from "../flow/mod.ts";
import { hashAdd, hashFinish, hashString } from "../lib/mod.ts";

const TYPES: Record<OdpAction["type"], number> = {
  output: 1,
  userspace: 2,
  set: 3,
  set_masked: 4,
  push_vlan: 5,
  pop_vlan: 6,
  recirc: 7,
  hash: 8,
  trunc: 9,
  ct: 10,
  clone: 11,
  sample: 12,
  ct_clear: 13,
  check_pkt_len: 14,
  add_mpls: 15,
};

function addWords(h: number, w: Uint32Array): number {
  for (let i = 0; i < w.length; i++) h = hashAdd(h, w[i]);
  return h;
}

function addBytes(h: number, b: Uint8Array): number {
  h = hashAdd(h, b.length);
  for (let i = 0; i < b.length; i++) h = hashAdd(h, b[i]);
  return h;
}

function hashActions(actions: OdpAction[], basis: number): number {
  let h = basis;
  for (const a of actions) {
    h = hashAdd(h, TYPES[a.type]);
    switch (a.type) {
      case "output":
        h = hashAdd(h, a.port);
        break;
      case "userspace":
        h = hashAdd(h, a.pid);
        h = hashAdd(h, a.actions ? 1 : 0);
        if (a.userdata) h = addBytes(h, a.userdata);
        break;
      case "set":
        h = addWords(hashAdd(h, hashString(a.attr, 0)), a.key);
        break;
      case "set_masked":
        h = addWords(addWords(hashAdd(h, hashString(a.attr, 0)), a.key), a.mask);
        break;
      case "push_vlan":
        h = hashAdd(hashAdd(h, a.tpid), a.tci);
        break;
      case "pop_vlan":
        break;
      case "recirc":
        h = hashAdd(h, a.id);
        break;
      case "hash":
        h = hashAdd(hashAdd(h, a.alg), a.basis);
        break;
      case "trunc":
        h = hashAdd(h, a.maxLen);
        break;
      case "check_pkt_len":
        h = hashAdd(hashAdd(h, a.size), hashActions(a.gt, h));
        h = hashAdd(h, hashActions(a.le, h));
        break;
      case "clone":
        h = hashAdd(h, hashActions(a.actions, h));
        break;
      case "ct":
        h = addBytes(h, encodeActions([a]));
        break;
      case "ct_clear":
        break;
      default:
        h = hashAdd(h, hashString(a.text, 0));
    }
  }
  return hashFinish(h, actions.length);
}

/** Writes the digest of `actions` into `out[0..2]`. */
export function actionsDigest(actions: OdpAction[], out: Uint32Array): Uint32Array {
  out[0] = hashActions(actions, 0);
  out[1] = hashActions(actions, 0x9e3779b9);
  out[2] = actions.length;
  return out;
}

/**
 * actionsDigest() that remembers its last list when the list holds only
 * frozen output actions (the ports' shared ones, XPort.output): a list of
 * the same objects, which cannot have changed, has the same digest. A full
 * revalidation translates most flows to the same few outputs, and hashing
 * each twice was a twentieth of its time.
 */
export class ActionsDigestMemo {
  /** The last list digested, when it had only frozen output actions. */
  readonly #outputs: OdpAction[] = [];
  #known = false;
  readonly #digest = new Uint32Array(3);

  digest(actions: OdpAction[], out: Uint32Array): Uint32Array {
    if (this.#known && this.#sameOutputs(actions)) {
      out.set(this.#digest);
      return out;
    }
    actionsDigest(actions, out);
    this.#remember(actions, out);
    return out;
  }

  #sameOutputs(actions: OdpAction[]): boolean {
    const last = this.#outputs;
    if (actions.length !== last.length) return false;
    for (let i = 0; i < actions.length; i++) if (actions[i] !== last[i]) return false;
    return true;
  }

  #remember(actions: OdpAction[], digest: Uint32Array): void {
    const last = this.#outputs;
    while (last.length) last.pop();
    this.#known = false;
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i];
      if (a.type !== "output" || !Object.isFrozen(a)) return;
      last.push(a);
    }
    this.#known = true;
    this.#digest.set(digest);
  }
}
