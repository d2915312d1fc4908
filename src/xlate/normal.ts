/**
 * The NORMAL action (xlate_normal): a learning L2 switch with 802.1Q VLANs.
 * The input VLAN is checked against the port's mode, mapped to the
 * bridge-internal VLAN, the source MAC is learned, and the packet goes to
 * the learned port or floods to every other port carrying that VLAN, each
 * output tagged or untagged as that port's mode says.
 *
 * The decision depends on the Ethernet addresses and the outer VLAN id,
 * so those are always unwildcarded; gratuitous-ARP detection also looks at
 * the ARP opcode (and, for requests, the IP addresses).
 */
import {
  F,
  getUint,
  setUint,
  VLAN_CFI,
  VLAN_PCP_MASK,
  VLAN_VID_MASK,
  vlanOffset,
} from "../flow/mod.ts";
import { bundlePort, includesVlan, trunksVlan, type XPort } from "./bridge.ts";
import { BOND_RECIRC, bondAdmissible, bondOutputPort, composeBondRecirc } from "./bond.ts";
import type { XlateCtx } from "./context.ts";
import { maskField } from "./flow_ops.ts";
import { composeOutput, inPort } from "./output.ts";

const ETH_TYPE_ARP = 0x0806;
const ETH_TYPE_VLAN = 0x8100;
const ETH_TYPE_VLAN_8021AD = 0x88a8;
const ARP_OP_REQUEST = 1;
const ARP_OP_REPLY = 2;

/** One VLAN header as NORMAL handles it (struct xvlan_single). */
interface XVlan {
  tpid: number;
  vid: number;
  pcp: number;
}

const isVlanTpid = (t: number) => t === ETH_TYPE_VLAN || t === ETH_TYPE_VLAN_8021AD;

function extractVlans(f: Uint8Array): XVlan[] {
  const out: XVlan[] = [{ tpid: 0, vid: 0, pcp: 0 }, { tpid: 0, vid: 0, pcp: 0 }];
  for (let i = 0; i < 2; i++) {
    const tpid = getUint(f, vlanOffset(i), 2);
    const tci = getUint(f, vlanOffset(i) + 2, 2);
    if (!isVlanTpid(tpid) || !(tci & VLAN_CFI)) break;
    out[i] = { tpid, vid: tci & VLAN_VID_MASK, pcp: tci & VLAN_PCP_MASK };
  }
  return out;
}

function putVlans(f: Uint8Array, v: XVlan[]): void {
  for (let i = 0; i < 2; i++) {
    let tci = v[i].vid | (v[i].pcp & VLAN_PCP_MASK);
    if (tci) {
      tci |= VLAN_CFI;
      setUint(f, vlanOffset(i), 2, v[i].tpid || ETH_TYPE_VLAN);
    }
    setUint(f, vlanOffset(i) + 2, 2, tci);
  }
}

const blank = (): XVlan => ({ tpid: 0, vid: 0, pcp: 0 });

function inputVidValid(ctx: XlateCtx, port: XPort, vid: number): boolean {
  if (port.vlanMode === "access") {
    if (!vid) return true;
    ctx.report(
      "error",
      `dropping VLAN ${vid} tagged packet received on port ${port.name} configured as VLAN ${port.vlan} access port`,
    );
    return false;
  }
  // Native ports always carry their native VLAN untagged.
  if (port.vlanMode !== "trunk" && !vid) return true;
  if (trunksVlan(port, vid)) return true;
  ctx.report(
    "error",
    `dropping VLAN ${vid} packet received on port ${port.name} not configured for trunking VLAN ${vid}`,
  );
  return false;
}

function inputTranslate(port: XPort, inv: XVlan[]): XVlan[] {
  switch (port.vlanMode) {
    case "access":
      return [{ tpid: inv[0].tpid || ETH_TYPE_VLAN, vid: port.vlan, pcp: inv[0].pcp }, blank()];
    case "trunk":
      return [{ ...inv[0] }, { ...inv[1] }];
    case "native-tagged":
    case "native-untagged":
      if (inv[0].vid) return [{ ...inv[0] }, { ...inv[1] }];
      return [{ tpid: inv[0].tpid || ETH_TYPE_VLAN, vid: port.vlan, pcp: inv[0].pcp }, {
        ...inv[1],
      }];
  }
}

function outputTranslate(port: XPort, v: XVlan[]): XVlan[] {
  switch (port.vlanMode) {
    case "access":
      return [blank(), blank()];
    case "trunk":
    case "native-tagged":
      return [{ ...v[0] }, { ...v[1] }];
    case "native-untagged":
      return v[0].vid === port.vlan ? [{ ...v[1] }, blank()] : [{ ...v[0] }, { ...v[1] }];
  }
}

/** Outputs with the VLAN headers `port` wants, then restores the flow's. */
function outputNormal(ctx: XlateCtx, port: XPort, v: XVlan[]): void {
  const f = ctx.f;
  const out = outputTranslate(port, v);
  // A bond leaves through the member it chooses; none enabled drops.
  const ofport = port.bond ? bondOutputPort(ctx, port, out[0].vid) : port.ofport;
  if (ofport < 0 && ofport !== BOND_RECIRC) return;
  const old = f.slice(vlanOffset(0), vlanOffset(2));
  putVlans(f, out);
  if (ofport === BOND_RECIRC) composeBondRecirc(ctx, port);
  else composeOutput(ctx, ofport);
  f.set(old, vlanOffset(0));
}

function isGratuitousArp(ctx: XlateCtx): boolean {
  const f = ctx.f, w = ctx.w;
  if (getUint(f, F.dl_type.off, 2) !== ETH_TYPE_ARP) return false;
  maskField(w, F.dl_dst);
  for (let i = 0; i < 6; i++) if (f[F.dl_dst.off + i] !== 0xff) return false;
  w[F.nw_proto.off] = 0xff;
  const op = f[F.nw_proto.off];
  if (op === ARP_OP_REPLY) return true;
  if (op !== ARP_OP_REQUEST) return false;
  maskField(w, F.nw_src);
  maskField(w, F.nw_dst);
  return getUint(f, F.nw_src.off, 4) === getUint(f, F.nw_dst.off, 4);
}

const RESERVED_MACS = new Set([
  ...Array.from({ length: 16 }, (_, i) => 0x0180c2000000 + i),
  0x00e02b000000,
  0x00e02b000004,
  0x00e02b000006,
  0x01000c000000,
  0x01000ccccccc,
  0x01000ccccccd,
  0x01000ccdcdcd,
  ...Array.from({ length: 8 }, (_, i) => 0x01000cccccc0 + i),
]);

/** Destinations bridges never forward (STP, pause frames, Cisco protocols). */
function isReservedMac(f: Uint8Array): boolean {
  let v = 0;
  for (let i = 0; i < 6; i++) v = v * 256 + f[F.dl_dst.off + i];
  return RESERVED_MACS.has(v);
}

/** Every other bundle carrying the VLAN, once each (a bond through its first member's entry). */
function flood(ctx: XlateCtx, in_: XPort, v: XVlan[]): void {
  const inBundle = bundlePort(in_);
  for (const p of ctx.xin.bridge.ports) {
    const bundle = bundlePort(p);
    if (bundle !== p.ofport || bundle === inBundle) continue;
    if (includesVlan(p, v[0].vid) && !p.noFlood) outputNormal(ctx, p, v);
  }
}

export function xlateNormal(ctx: XlateCtx): void {
  const f = ctx.f, w = ctx.w;
  maskField(w, F.dl_src);
  maskField(w, F.dl_dst);
  setUint(w, F.vlan0_tci.off, 2, getUint(w, F.vlan0_tci.off, 2) | VLAN_VID_MASK | VLAN_CFI);

  const in_ = ctx.xin.bridge.port(inPort(ctx));
  if (!in_) {
    ctx.report("warn", "no input bundle, dropping");
    return;
  }
  const dlType = getUint(f, F.dl_type.off, 2);
  if (isVlanTpid(dlType) && !(getUint(f, F.vlan0_tci.off, 2) & VLAN_CFI)) {
    ctx.report("warn", "partial VLAN tag, dropping");
    return;
  }
  const inv = extractVlans(f);
  if (!inputVidValid(ctx, in_, inv[0].vid)) {
    ctx.report("warn", "disallowed VLAN VID for this input port, dropping");
    return;
  }
  const v = inputTranslate(in_, inv);
  const vlan = v[0].vid;
  if (isReservedMac(f)) {
    ctx.report("detail", "packet has reserved destination MAC, dropping");
    return;
  }

  const gratArp = isGratuitousArp(ctx);
  if (!bondAdmissible(ctx, in_, vlan, gratArp)) return;
  // A bond's members are one bundle: MACs are learned on its first member.
  const inBundle = bundlePort(in_);
  const ml = ctx.xin.ml;
  if (ml && ctx.xin.sideEffects) {
    if (ml.update(f, F.dl_src.off, vlan, inBundle, ctx.xin.nowMs, gratArp)) {
      ctx.macChanged = true;
    }
  }
  ctx.cache.addNormal(inBundle, vlan, ctx.flow, gratArp);

  const outPort = ml ? ml.lookup(f, F.dl_dst.off, vlan, ctx.xin.nowMs) : -1;
  if (outPort < 0) {
    ctx.report("detail", "no learned MAC for destination, flooding");
    flood(ctx, in_, v);
    return;
  }
  const out = ctx.xin.bridge.port(outPort);
  if (!out) ctx.report("warn", "learned port is unknown, dropping");
  else if (bundlePort(out) === inBundle) {
    ctx.report("detail", "learned port is input port, dropping");
  } else {
    ctx.report("detail", "forwarding to learned port");
    outputNormal(ctx, out, v);
  }
}
