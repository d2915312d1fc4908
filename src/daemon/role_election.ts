/**
 * Controller roles across one bridge's OpenFlow connections (the role
 * part of OVS's ofproto/connmgr.c): the primary election id, and the rule
 * that a new primary makes the previous one secondary.
 *
 * Thread-safety: main thread.
 */
import type { ControllerRole } from "../openflow/mod.ts";

/** What the election needs of a connection: its role, which it changes. */
export interface RoleHolder {
  role: Exclude<ControllerRole, "nochange">;
}

/**
 * The controller roles of one connection manager's connections (OVS keeps
 * them in struct connmgr): the election id, and who is primary.
 */
export class RoleElection {
  /** primary_election_id; undefined until a primary/secondary request sets it. */
  electionId: bigint | undefined;
  readonly members = new Set<RoleHolder>();

  /** ofconn_set_primary_election_id: false when `id` is older than the current one. */
  setElectionId(id: bigint): boolean {
    if (this.electionId !== undefined && BigInt.asIntN(64, id - this.electionId) < 0n) {
      return false;
    }
    this.electionId = id;
    return true;
  }

  /** ofconn_set_role: a new primary makes the old one secondary. */
  setRole(conn: RoleHolder, role: Exclude<ControllerRole, "nochange">): void {
    if (role === "primary" && conn.role !== "primary") {
      for (const other of this.members) if (other.role === "primary") other.role = "secondary";
    }
    conn.role = role;
  }
}
