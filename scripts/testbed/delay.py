#!/usr/bin/env python3
"""A fixed packet delay for test-bed hosts whose kernel has no netem qdisc.

scripts/testbed/up.sh runs one of these inside a host's network namespace, after an iptables rule
that sends the packets arriving on the host's eth0 to NFQUEUE queue Q. The kernel keeps each
queued packet and tells this process its id (metadata only, never the payload); the process lets
the packets go, in order, once DELAY has passed since each was queued. Releasing in order means
one batch verdict ("accept every id up to N") per wake-up, so a notification lost to a full
socket buffer delays nothing. Arriving packets are held rather than departing ones because a
sender's own held packets count against TCP Small Queues and throttle it (measured here: 2 Mbit/s
holding departing packets, 248 Mbit/s holding arriving ones, both at a 41 ms round trip).

Usage: delay.py QUEUE DELAY_MS     (root, inside the namespace; runs until killed)
Only the standard library: raw netlink, as in linux/netfilter/nfnetlink_queue.h.
"""
import collections
import select
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_CONFIG, NFQNL_MSG_VERDICT_BATCH = 0, 2, 3
NFQA_PACKET_HDR, NFQA_VERDICT_HDR = 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN, NFQA_CFG_MASK, NFQA_CFG_FLAGS = 1, 2, 3, 4, 5
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_GSO = 1, 4
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
NF_ACCEPT = 1


def attr(kind, payload):
    data = struct.pack("=HH", 4 + len(payload), kind) + payload
    return data + b"\0" * (-len(data) % 4)


def message(msg_type, queue, attrs, flags=NLM_F_REQUEST):
    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue)) + b"".join(attrs)
    return struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg_type, flags, 0, 0) + body


def configure(sock, queue):
    for attrs in (
        [attr(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_BIND, socket.AF_INET))],
        [attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META)),
         attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", 65536)),
         attr(NFQA_CFG_MASK, struct.pack("!I", NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO)),
         attr(NFQA_CFG_FLAGS, struct.pack("!I", NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO))],
    ):
        sock.send(message(NFQNL_MSG_CONFIG, queue, attrs, NLM_F_REQUEST | NLM_F_ACK))
        reply = sock.recv(65536)
        length, kind = struct.unpack_from("=IH", reply)
        if kind == NLMSG_ERROR and struct.unpack_from("=i", reply, 16)[0] != 0:
            sys.exit(f"delay.py: the kernel refused NFQUEUE {queue} configuration "
                     f"(error {-struct.unpack_from('=i', reply, 16)[0]}); is nfnetlink_queue available?")


def packet_ids(buffer):
    """The packet ids of the NFQNL_MSG_PACKET messages in one read."""
    offset = 0
    while offset + 16 <= len(buffer):
        length, kind = struct.unpack_from("=IH", buffer, offset)
        if length < 16:
            break
        if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
            a = offset + 20
            while a + 4 <= offset + length:
                alen, atype = struct.unpack_from("=HH", buffer, a)
                if alen < 4:
                    break
                if atype & 0x3FFF == NFQA_PACKET_HDR:
                    yield struct.unpack_from("!I", buffer, a + 4)[0]
                a += (alen + 3) & ~3
        offset += (length + 3) & ~3


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: delay.py QUEUE DELAY_MS")
    queue, delay = int(sys.argv[1]), float(sys.argv[2]) / 1000.0
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
    sock.bind((0, 0))
    configure(sock, queue)
    pending = collections.deque()  # (release time, packet id), in arrival order
    while True:
        timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else None
        if select.select([sock], [], [], timeout)[0]:
            try:
                data = sock.recv(1 << 20)
            except OSError:  # ENOBUFS: notifications lost; a later batch verdict releases them
                data = b""
            now = time.monotonic()
            for pid in packet_ids(data):
                pending.append((now + delay, pid))
        now = time.monotonic()
        last = None
        while pending and pending[0][0] <= now:
            last = pending.popleft()[1]
        if last is not None:
            sock.send(message(NFQNL_MSG_VERDICT_BATCH, queue,
                              [attr(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, last))]))


if __name__ == "__main__":
    main()
