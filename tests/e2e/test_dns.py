"""End-to-end: the appliance's resolver against a small DNS server on the host.

The server below (UDP and TCP on 127.0.0.1, a free port) serves a zone with
MX, A, AAAA, TXT, TLSA, PTR and CNAME records, a TXT answer too big for UDP
(the resolver must ask again over TCP), an answer with AD set, NXDOMAIN and
SERVFAIL.  The sim board reaches it as 10.0.2.2:PORT.  Standard library only.
"""
import os
import re
import socket
import socketserver
import struct
import threading
import unittest

from board import start_sim

T_A, T_CNAME, T_SOA, T_PTR, T_MX, T_TXT, T_AAAA, T_OPT, T_TLSA = 1, 5, 6, 12, 15, 16, 28, 41, 52
TLSA_DIGEST = bytes(range(0xa0, 0xc0))
BIG = [bytes([ord("a") + i]) * 255 for i in range(5)]


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def txt(*strings):
    return b"".join(bytes([len(s)]) + s for s in strings)


# name -> type -> (ttl, [rdata...], ad)
ZONE = {
    "example.test": {
        T_MX: (3600, [struct.pack(">H", 10) + wire_name("mx1.example.test"),
                      struct.pack(">H", 20) + wire_name("mx2.example.test")], False),
        T_TXT: (300, [txt(b"v=spf1 ", b"mx -all")], False),
        T_SOA: (3600, [wire_name("ns.example.test") + wire_name("hostmaster.example.test")
                       + struct.pack(">IIIII", 1, 7200, 3600, 1209600, 60)], False),
    },
    "mx1.example.test": {
        T_A: (600, [bytes([10, 0, 2, 100])], False),
        T_AAAA: (600, [bytes.fromhex("20010db8000000000000000000000025")], False),
    },
    "www.example.test": {T_CNAME: (900, [wire_name("mx1.example.test")], False)},
    "_25._tcp.mx1.example.test": {T_TLSA: (300, [b"\x03\x01\x01" + TLSA_DIGEST], True)},
    "100.2.0.10.in-addr.arpa": {T_PTR: (86400, [wire_name("mx1.example.test")], False)},
    "big.example.test": {T_TXT: (300, [txt(s) for s in BIG], False)},
    "nomail.example.test": {T_MX: (3600, [b"\0\0\0"], False)},
}


class Zone:
    """Answers queries from ZONE; counts what it saw."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = []          # (transport, name, type, had_opt, do_bit)

    def answer(self, query, transport):
        if len(query) < 12:
            return None
        qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", query[:12])
        off, labels = 12, []
        while query[off]:
            n = query[off]
            labels.append(query[off + 1:off + 1 + n].decode())
            off += 1 + n
        off += 1
        qtype, qclass = struct.unpack(">HH", query[off:off + 4])
        question = query[12:off + 4]
        rest = query[off + 4:]
        had_opt = ar == 1 and len(rest) >= 11 and rest[0] == 0 and rest[1:3] == b"\0\x29"
        do_bit = had_opt and (rest[7] & 0x80) != 0
        udp_size = struct.unpack(">H", rest[3:5])[0] if had_opt else 512
        name = ".".join(labels).lower()
        with self.lock:
            self.seen.append((transport, name, qtype, had_opt, do_bit))

        rcode, records, authority, ad = 0, [], [], False
        if name == "servfail.example.test":
            rcode = 2
        elif name in ZONE:
            node = ZONE[name]
            if qtype in node:
                ttl, rdatas, ad = node[qtype]
                records = [(ttl, qtype, r) for r in rdatas]
            elif T_CNAME in node:
                ttl, (target,), _ = node[T_CNAME]
                records = [(ttl, T_CNAME, target)]
                tname = ".".join(l.decode() for l in _labels(target))
                if qtype in ZONE.get(tname, {}):
                    ttl2, rdatas2, _ = ZONE[tname][qtype]
                    records += [(ttl2, qtype, r, target) for r in rdatas2]
        else:
            rcode = 3
        if not records and rcode in (0, 3):
            soa = ZONE["example.test"][T_SOA]
            authority = [(soa[0], T_SOA, soa[1][0], wire_name("example.test"))]

        body = b""
        for rec in records + authority:
            owner = b"\xc0\x0c" if len(rec) == 3 else rec[3]
            body += owner + struct.pack(">HHIH", rec[1], 1, rec[0], len(rec[2])) + rec[2]
        rflags = 0x8000 | (flags & 0x0100) | 0x0080 | (0x0020 if ad else 0) | rcode
        msg = struct.pack(">HHHHHH", qid, rflags, 1, len(records), len(authority), 0) + question + body
        if transport == "udp" and len(msg) > udp_size:
            msg = struct.pack(">HHHHHH", qid, rflags | 0x0200, 1, 0, 0, 0) + question
        return msg


def _labels(wire):
    off = 0
    while wire[off]:
        yield wire[off + 1:off + 1 + wire[off]]
        off += 1 + wire[off]


class DnsServer:
    """UDP and TCP on 127.0.0.1, the same free port."""

    def __init__(self, zone):
        self.zone = zone
        for _ in range(50):
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(("127.0.0.1", 0))
            self.port = self.udp.getsockname()[1]
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.tcp.bind(("127.0.0.1", self.port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
        self.tcp.listen(8)
        self.stop = False
        self.threads = [threading.Thread(target=self._udp_loop, daemon=True),
                        threading.Thread(target=self._tcp_loop, daemon=True)]
        for t in self.threads:
            t.start()

    def _udp_loop(self):
        self.udp.settimeout(0.2)
        while not self.stop:
            try:
                data, peer = self.udp.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            msg = self.zone.answer(data, "udp")
            if msg:
                self.udp.sendto(msg, peer)

    def _tcp_loop(self):
        self.tcp.settimeout(0.2)
        while not self.stop:
            try:
                conn, _ = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    head = _read(conn, 2)
                    query = _read(conn, struct.unpack(">H", head)[0])
                    msg = self.zone.answer(query, "tcp")
                    if msg:
                        conn.sendall(struct.pack(">H", len(msg)) + msg)
                except (OSError, ValueError):
                    pass

    def close(self):
        self.stop = True
        for t in self.threads:
            t.join(2)
        self.udp.close()
        self.tcp.close()


def _read(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ValueError("short read")
        data += chunk
    return data


class Dns(unittest.TestCase):
    def setUp(self):
        self.zone = Zone()
        self.server = DnsServer(self.zone)
        self.board = None

    def tearDown(self):
        if self.board:
            self.board.kill()
        self.server.close()

    def lookup(self, b, typ, name, expect, timeout=20):
        """Run 'dns lookup' and wait for the line that answers it."""
        b.command("dns lookup %s %s" % (typ, name))
        return b.expect(expect, timeout)

    def boot(self, flash=None):
        b = start_sim(flash=flash)
        b.expect(r"network: address 10\.0\.2\.15", timeout=30)
        return b

    def test_lookups(self):
        b = self.board = self.boot()
        out = b.command("set dns 10.0.2.2:%d" % self.server.port)
        self.assertIn("dns servers: 10.0.2.2:%d" % self.server.port, out)

        self.lookup(b, "mx", "example.test", r"example\.test: MX 10 mx1\.example\.test ttl=3600 ad=no\n")
        b.expect(r"example\.test: MX 20 mx2\.example\.test ttl=3600 ad=no\n")
        # The query asked for DNSSEC data (EDNS0 with DO), over UDP.
        self.assertIn(("udp", "example.test", T_MX, True, True), self.zone.seen)

        self.lookup(b, "a", "mx1.example.test", r"mx1\.example\.test: A 10\.0\.2\.100 ttl=600 ad=no\n")
        self.lookup(b, "aaaa", "mx1.example.test",
                    r"mx1\.example\.test: AAAA 2001:db8::25 ttl=600 ad=no\n")
        self.lookup(b, "txt", "example.test", r'example\.test: TXT "v=spf1 mx -all" ttl=300 ad=no\n')
        # AD set by the upstream is reported.
        self.lookup(b, "tlsa", "_25._tcp.mx1.example.test",
                    r"_25\._tcp\.mx1\.example\.test: TLSA 3 1 1 %s ttl=300 ad=yes\n" % TLSA_DIGEST.hex())
        # PTR from an IP address, and the CNAME chain followed to the A record.
        self.lookup(b, "ptr", "10.0.2.100", r"10\.0\.2\.100: PTR mx1\.example\.test ttl=86400 ad=no\n")
        self.lookup(b, "a", "www.example.test", r"www\.example\.test: CNAME mx1\.example\.test ttl=900")
        b.expect(r"www\.example\.test: A 10\.0\.2\.100 ttl=600 ad=no\n")
        self.lookup(b, "mx", "nomail.example.test", r"nomail\.example\.test: MX 0 \. ttl=3600")
        b.expect(r"nomail\.example\.test: null MX: the domain accepts no mail")

        # Too big for UDP: truncated there, asked again over TCP.
        self.lookup(b, "txt", "big.example.test", r'big\.example\.test: TXT "a{255}" ttl=300 ad=no\n')
        with self.zone.lock:
            transports = [s[0] for s in self.zone.seen if s[1] == "big.example.test"]
        self.assertEqual(transports, ["udp", "tcp"])

        self.lookup(b, "a", "nx.example.test", r"error: A nx\.example\.test: NXDOMAIN\n")
        self.lookup(b, "a", "servfail.example.test", r"error: A servfail\.example\.test: SERVFAIL\n")

        # The answer is cached: asked again, the server does not see it.
        with self.zone.lock:
            before = len(self.zone.seen)
        out = b.command("dns lookup mx example.test")
        self.assertRegex(out, r"example\.test: MX 10 mx1\.example\.test ttl=3[56]\d\d ad=no")
        self.assertNotIn("looking up", out)
        with self.zone.lock:
            self.assertEqual(len(self.zone.seen), before)
        self.assertRegex(b.command("show dns"), r"cache\s+\d+ / 16 answers, [1-9]\d* hits")

        # Errors of the command itself.
        self.assertIn("error: TYPE must be", b.command("dns lookup soa example.test"))
        self.assertIn("is not a domain name", b.command("dns lookup a bad..name"))
        self.assertIn("error:", b.command("set dns 10.0.2.2:99999"))
        self.assertIn("error:", b.command("set dns not-an-ip"))

        # Nobody answers on this port: a timeout, after the retries.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            dead = s.getsockname()[1]
            b.command("set dns 10.0.2.2:%d" % dead)
            self.lookup(b, "a", "mx1.example.test",
                        r"error: A mx1\.example\.test: timed out", timeout=30)

        b.send("poweroff")
        self.assertEqual(b.wait(20), 0)

    def test_servers_survive_reboot(self):
        b = self.board = self.boot()
        self.assertRegex(b.command("show status"), r"dns\s+10\.0\.2\.3 \(dhcp\)")
        b.command("set dns 10.0.2.2:%d 192.0.2.53" % self.server.port)
        self.assertRegex(b.command("show dns"),
                         r"dns servers 10\.0\.2\.2:%d 192\.0\.2\.53\n" % self.server.port)
        b.send("reboot")
        b.expect(r"rebooting")
        b.expect(r"network: address 10\.0\.2\.15", timeout=30)
        self.assertRegex(b.command("show status"),
                         r"dns\s+10\.0\.2\.2:%d 192\.0\.2\.53\n" % self.server.port)
        self.lookup(b, "a", "mx1.example.test", r"mx1\.example\.test: A 10\.0\.2\.100 ttl=600 ad=no\n")
        # Back to the server DHCP gave, which also survives a reboot.
        self.assertIn("dns servers: 10.0.2.3 (dhcp)", b.command("set dns auto"))
        b.send("reboot")
        b.expect(r"rebooting")
        b.expect(r"network: address 10\.0\.2\.15", timeout=30)
        self.assertRegex(b.command("show dns"), r"dns servers 10\.0\.2\.3 \(dhcp\)")
        b.send("poweroff")
        self.assertEqual(b.wait(20), 0)


if __name__ == "__main__":
    unittest.main()
