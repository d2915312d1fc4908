/**
 * OpenFlow message type numbers (OVS's lib/ofp-msgs.h raw types) for the
 * versions udpif speaks, and the Nicira extension numbers.
 */
export const OFP10_VERSION = 0x01;
export const OFP13_VERSION = 0x04;
export const OFP14_VERSION = 0x05;
export const OFP15_VERSION = 0x06;

/** Types that have the same number in every version. */
export const OFPT_HELLO = 0;
export const OFPT_ERROR = 1;
export const OFPT_ECHO_REQUEST = 2;
export const OFPT_ECHO_REPLY = 3;
export const OFPT_VENDOR = 4;
export const OFPT_FEATURES_REQUEST = 5;
export const OFPT_FEATURES_REPLY = 6;
export const OFPT_GET_CONFIG_REQUEST = 7;
export const OFPT_GET_CONFIG_REPLY = 8;
export const OFPT_SET_CONFIG = 9;
export const OFPT_PACKET_IN = 10;
export const OFPT_FLOW_REMOVED = 11;
export const OFPT_PORT_STATUS = 12;
export const OFPT_PACKET_OUT = 13;
export const OFPT_FLOW_MOD = 14;

/** OpenFlow 1.0 numbering. */
export const OFPT10_PORT_MOD = 15;
export const OFPT10_STATS_REQUEST = 16;
export const OFPT10_STATS_REPLY = 17;
export const OFPT10_BARRIER_REQUEST = 18;
export const OFPT10_BARRIER_REPLY = 19;

/** OpenFlow 1.1+ numbering (1.3). */
export const OFPT11_GROUP_MOD = 15;
export const OFPT11_PORT_MOD = 16;
export const OFPT11_TABLE_MOD = 17;
export const OFPT11_STATS_REQUEST = 18;
export const OFPT11_STATS_REPLY = 19;
export const OFPT11_BARRIER_REQUEST = 20;
export const OFPT11_BARRIER_REPLY = 21;
export const OFPT12_ROLE_REQUEST = 24;
export const OFPT12_ROLE_REPLY = 25;

/** Stats (multipart) types. */
export const OFPST_DESC = 0;
export const OFPST_FLOW = 1;
export const OFPST_AGGREGATE = 2;
export const OFPST_TABLE = 3;
export const OFPST_PORT = 4;
export const OFPST_QUEUE = 5;
export const OFPST13_TABLE_FEATURES = 12;
export const OFPST_PORT_DESC = 13;
export const OFPST_VENDOR = 0xffff;

/** Nicira extensions (vendor 0x00002320). */
export const NX_VENDOR_ID = 0x00002320;
export const NXT_ROLE_REQUEST = 10;
export const NXT_ROLE_REPLY = 11;
export const NXT_SET_FLOW_FORMAT = 12;
export const NXT_FLOW_MOD = 13;
export const NXT_FLOW_MOD_TABLE_ID = 15;
export const NXT_SET_PACKET_IN_FORMAT = 16;
export const NXT_SET_CONTROLLER_ID = 20;
export const NXST_FLOW = 0;
export const NXST_AGGREGATE = 1;

/** NXT_SET_FLOW_FORMAT values. */
export const NXFF_OPENFLOW10 = 0;
export const NXFF_NXM = 2;

/** Flow-mod commands. */
export const OFPFC_ADD = 0;
export const OFPFC_MODIFY = 1;
export const OFPFC_MODIFY_STRICT = 2;
export const OFPFC_DELETE = 3;
export const OFPFC_DELETE_STRICT = 4;

/** OpenFlow 1.1+ reserved ports (32-bit) start here; 1.0's (16-bit) at 0xff00. */
export const OFPP11_OFFSET = 0xffff0000;
export const OFPP11_MAX = 0xffffff00;
export const OFPP11_ANY = 0xffffffff;
/** "All tables" in requests. */
export const OFPTT_ALL = 0xff;
