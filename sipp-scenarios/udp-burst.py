#!/usr/bin/env python3
"""Sends bursts of SIP INVITEs over UDP to a running server as fast as one socket can, and
counts how many were answered (100 Trying or a final response), so that datagrams lost in the
server's receive buffer show. Loopback only; every burst is bounded and the script stops.

  sipp-scenarios/udp-burst.py 127.0.0.1:5060 200 1000 5000

Each INVITE has no SDP, so the server answers 100 Trying and then 488: no call is set up and no
media port is taken; the burst measures the SIP socket and the endpoint alone.
"""
import socket
import sys
import time
import uuid


def burst(target, n):
    host, port = target.rsplit(":", 1)
    if not (host.startswith("127.") or host in ("localhost", "::1")):
        sys.exit("loopback targets only")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024 * 1024)
    s.bind(("127.0.0.1", 0))
    local = "%s:%d" % s.getsockname()
    tag = uuid.uuid4().hex[:8]
    t0 = time.monotonic()
    for i in range(n):
        msg = (
            f"INVITE sip:12345@{target} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {local};branch=z9hG4bK{tag}{i}\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:087163100000@127.0.0.1>;tag={tag}{i}\r\n"
            f"To: <sip:12345@{target}>\r\nCall-ID: burst-{tag}-{i}@test\r\n"
            f"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
        )
        s.sendto(msg.encode(), (host, int(port)))
    sent = time.monotonic() - t0
    answered = set()
    s.settimeout(3.0)
    try:
        while len(answered) < n:
            data = s.recv(65536).decode(errors="replace")
            for line in data.split("\r\n"):
                if line.lower().startswith("call-id:"):
                    answered.add(line.split(":", 1)[1].strip())
    except socket.timeout:
        pass
    return sent, len(answered)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    target = sys.argv[1]
    print(f"{'burst':>7} {'sent in ms':>11} {'answered':>9} {'lost':>6}")
    for n in map(int, sys.argv[2:]):
        n = min(n, 20000)
        sent, got = burst(target, n)
        print(f"{n:>7} {sent * 1000:>11.1f} {got:>9} {n - got:>6}")
        time.sleep(2)


if __name__ == "__main__":
    main()
