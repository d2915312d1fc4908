/**
 * Connection timeouts (OVS's enum ct_timeout and the userspace defaults
 * of conntrack-tp.c, ct_dpif_netdev_tp_def), in seconds.
 */

/** Timeout kinds, in CT_TIMEOUTS order. */
export const TM = {
  TCP_FIRST_PACKET: 0,
  TCP_OPENING: 1,
  TCP_ESTABLISHED: 2,
  TCP_CLOSING: 3,
  TCP_FIN_WAIT: 4,
  TCP_CLOSED: 5,
  OTHER_FIRST: 6,
  OTHER_MULTIPLE: 7,
  OTHER_BIDIR: 8,
  ICMP_FIRST: 9,
  ICMP_REPLY: 10,
} as const;
export type CtTimeout = typeof TM[keyof typeof TM];

/**
 * Seconds per kind: tcp_syn_sent 30, tcp_syn_recv 30, tcp_established
 * 24 h, tcp_fin_wait 15 min, tcp_time_wait 45, tcp_close 30, udp_first 60,
 * udp_single 60, udp_multiple 30, icmp_first 60, icmp_reply 30.
 */
export const DEFAULT_TIMEOUT_S: readonly number[] = [
  30,
  30,
  24 * 60 * 60,
  15 * 60,
  45,
  30,
  60,
  60,
  30,
  60,
  30,
];
