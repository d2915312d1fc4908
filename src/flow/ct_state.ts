/** ct_state bits (OVS's CS_* in lib/packets.h), as the packet's metadata carries them. */
export const CS_NEW = 0x01;
export const CS_ESTABLISHED = 0x02;
export const CS_RELATED = 0x04;
export const CS_REPLY_DIR = 0x08;
export const CS_INVALID = 0x10;
export const CS_TRACKED = 0x20;
export const CS_SRC_NAT = 0x40;
export const CS_DST_NAT = 0x80;
