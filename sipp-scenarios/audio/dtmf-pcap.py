#!/usr/bin/env python3
"""Writes dtmf-1.pcap: the key 1 as RFC 4733 telephone-event packets (payload type 101), for
SIPp's play_pcap_audio (the liaison who answers a reminder presses 1). Three updates of a
100 ms event 20 ms apart, then three end packets, as a phone sends it; Ethernet/IPv4/UDP
framing (SIPp takes the UDP payloads and their timing, and sends them to the peer's media
address from the SDP).  Usage: sipp-scenarios/audio/dtmf-pcap.py (writes next to itself)."""
import os
import struct

def rtp(seq, ts, marker, payload, ssrc=0x5eed1234, pt=101):
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq, ts, ssrc) + payload

def udp_ip_eth(payload, sport=40000, dport=40002):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    total = 20 + len(udp)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    # The IPv4 header checksum.
    words = struct.unpack("!10H", ip)
    s = sum(words)
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    ip = ip[:10] + struct.pack("!H", ~s & 0xFFFF) + ip[12:]
    eth = b"\x00\x00\x00\x00\x00\x02" + b"\x00\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + udp

EVENT = 1          # the key 1
VOLUME = 10
packets = []
for i, end in enumerate([False, False, False, True, True, True]):
    duration = 800 if end else 160 * (i + 1)
    flags = (0x80 if end else 0) | VOLUME
    payload = struct.pack("!BBH", EVENT, flags, duration)
    packets.append(rtp(1000 + i, 16000, i == 0, payload))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dtmf-1.pcap")
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i, p in enumerate(packets):
        frame = udp_ip_eth(p)
        usec = i * 20000
        f.write(struct.pack("<IIII", 1, usec, len(frame), len(frame)))
        f.write(frame)
print("wrote", out)
