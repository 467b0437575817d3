"""Outbound TLS end to end on the sim: DANE (RFC 7672) toward an MX, and a
relay host with AUTH over STARTTLS and over implicit TLS.

The test DNS server (test_dns.Zone) names MX hosts at 10.0.2.101..103 and
serves TLSA records with AD set (as a validating resolver would); --guestfwd
connects each address to a TLS-capable SMTP sink on the host (Python ssl,
below) that records every byte it receives before TLS.  Certificates are
made at test time with openssl; nothing secret is kept in the repository.
"""
import hashlib
import os
import shutil
import socket
import socketserver
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import unittest

import test_dns
from board import start_sim
from test_outbound import BODY

T_A, T_MX, T_TLSA = test_dns.T_A, test_dns.T_MX, test_dns.T_TLSA


def make_cert(directory, name):
    """A P-256 key and self-signed certificate for name; returns (cert, key,
    sha256 of the certificate DER, sha256 of its SubjectPublicKeyInfo)."""
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + name],
                   check=True, capture_output=True)
    with open(cert) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"], check=True,
                         capture_output=True).stdout
    spki = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, check=True,
                          capture_output=True).stdout
    return cert, key, hashlib.sha256(der).digest(), hashlib.sha256(spki).digest()


def make_ca_chain(directory, host):
    """A CA and a certificate for host (subjectAltName DNS:host) signed by
    it; returns (chain PEM: leaf then CA, leaf key, sha256 of the CA DER)."""
    ca, cakey = os.path.join(directory, "ca.pem"), os.path.join(directory, "ca.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", cakey, "-out", ca, "-days", "2", "-subj", "/CN=Test DANE CA",
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign"], check=True, capture_output=True)
    key, csr = os.path.join(directory, host + ".key"), os.path.join(directory, host + ".csr")
    leaf, chain = os.path.join(directory, host + ".pem"), os.path.join(directory, host + "-chain.pem")
    ext = os.path.join(directory, host + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:%s\n" % host)
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", csr, "-subj", "/CN=" + host], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey, "-CAcreateserial",
                    "-days", "2", "-extfile", ext, "-out", leaf], check=True, capture_output=True)
    with open(chain, "w") as out:
        for pem in (leaf, ca):
            with open(pem) as f:
                out.write(f.read())
    with open(ca) as f:
        ca_der = ssl.PEM_cert_to_DER_cert(f.read())
    return chain, key, hashlib.sha256(ca_der).digest()


class TlsSink:
    """An SMTP server on 127.0.0.1 that offers STARTTLS (or speaks TLS from
    the first byte), optionally requires AUTH PLAIN/LOGIN, and records:
    plain (every byte before TLS), tls_lines (commands after TLS),
    messages ((from, [rcpts], data) accepted), handshakes (completed)."""

    def __init__(self, cert, key, starttls=True, implicit=False, auth=None):
        self.lock = threading.Lock()
        self.plain = b""
        self.tls_lines = []
        self.messages = []
        self.handshakes = 0
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        sink = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                self.tls = False
                try:
                    self.session()
                except (OSError, ssl.SSLError):
                    pass
                finally:
                    if self.tls:
                        self.sock.close()

            def readline(self):
                line = b""
                while not line.endswith(b"\n"):
                    ch = self.sock.recv(1)
                    if not ch:
                        return line
                    line += ch
                    if not self.tls:
                        with sink.lock:
                            sink.plain += ch
                return line

            def starttls(self):
                self.sock = sink.ctx.wrap_socket(self.sock, server_side=True)
                self.tls = True
                with sink.lock:
                    sink.handshakes += 1

            def session(self):
                self.sock, self.tls = self.request, False
                if implicit:
                    self.starttls()
                w = lambda b: self.sock.sendall(b)
                w(b"220 sink.example.net ESMTP\r\n")
                mail, rcpts, authed = None, [], auth is None
                while True:
                    line = self.readline()
                    if not line:
                        return
                    if self.tls:
                        with sink.lock:
                            sink.tls_lines.append(line)
                    cmd = line.decode("latin-1").strip()
                    verb = cmd.split(" ", 1)[0].upper()
                    if verb == "EHLO":
                        ext = b"250-PIPELINING\r\n250-8BITMIME\r\n"
                        if starttls and not self.tls:
                            ext += b"250-STARTTLS\r\n"
                        if auth and self.tls:
                            ext += b"250-AUTH PLAIN LOGIN\r\n"
                        w(b"250-sink.example.net\r\n" + ext + b"250 SIZE 10000000\r\n")
                    elif verb == "STARTTLS" and starttls and not self.tls:
                        w(b"220 2.0.0 Ready to start TLS\r\n")
                        self.starttls()
                    elif verb == "AUTH" and auth and self.tls:
                        import base64
                        parts = cmd.split(" ")
                        if parts[1].upper() == "PLAIN":
                            got = base64.b64decode(parts[2]).split(b"\0")[1:]
                        else:
                            w(b"334 VXNlcm5hbWU6\r\n")
                            u = base64.b64decode(self.readline().strip())
                            w(b"334 UGFzc3dvcmQ6\r\n")
                            got = [u, base64.b64decode(self.readline().strip())]
                        authed = [g.decode() for g in got] == list(auth)
                        w(b"235 2.7.0 Authentication successful\r\n" if authed else
                          b"535 5.7.8 Authentication credentials invalid\r\n")
                    elif verb == "MAIL":
                        if not authed:
                            w(b"530 5.7.0 Authentication required\r\n")
                            continue
                        mail, rcpts = cmd[10:].split(">")[0].lstrip("<"), []
                        w(b"250 2.1.0 Ok\r\n")
                    elif verb == "RCPT":
                        rcpts.append(cmd[8:].split(">")[0].lstrip("<"))
                        w(b"250 2.1.5 Ok\r\n")
                    elif verb == "DATA":
                        w(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        data = b""
                        while True:
                            l = self.readline()
                            if not l or l == b".\r\n":
                                break
                            data += l[1:] if l.startswith(b".") else l
                        with sink.lock:
                            sink.messages.append((mail, rcpts, data, self.tls))
                        w(b"250 2.0.0 Ok: queued\r\n")
                    elif verb == "QUIT":
                        w(b"221 2.0.0 Bye\r\n")
                        return
                    else:
                        w(b"502 5.5.2 Not here\r\n")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Dane(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.certdir = tempfile.mkdtemp(prefix="pillarbox-certs-")
        cls.good = make_cert(cls.certdir, "mx.dane.example.net")
        cls.other = make_cert(cls.certdir, "other.example.net")
        cls.chain = make_ca_chain(cls.certdir, "mx.ta.example.net")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certdir, ignore_errors=True)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pillarbox-")
        self.flash = os.path.join(self.dir, "flash.img")
        self.zone = test_dns.Zone()
        self.dns = test_dns.DnsServer(self.zone)
        self.sinks = []
        self.board = None

    def tearDown(self):
        if self.board:
            self.board.kill()
        for s in self.sinks:
            s.close()
        self.dns.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def sink(self, cert=None, **kw):
        s = TlsSink(*(cert or self.good[:2]), **kw)
        self.sinks.append(s)
        return s

    def domain(self, name, ip, tlsa=None, ad=True):
        """name's MX is mx.NAME at ip; tlsa: TLSA rdata (usage, selector,
        mtype + digest) served with AD set (or not)."""
        mx = "mx." + name
        test_dns.ZONE.update({
            name: {T_MX: (60, [struct.pack(">H", 10) + test_dns.wire_name(mx)], False)},
            mx: {T_A: (60, [socket.inet_aton(ip)], ad)},
        })
        if tlsa is not None:
            test_dns.ZONE["_25._tcp." + mx] = {T_TLSA: (60, [tlsa], ad)}

    def boot(self, fwd):
        extra = []
        for ip_port, sink in fwd:
            extra += ["--guestfwd", "%s=127.0.0.1:%d" % (ip_port, sink.port)]
        b = self.board = start_sim(flash=self.flash, flash_size="8M", extra=extra)
        b.expect(r"services: SMTP listening on port 25")
        b.expect(r"network: address 10\.0\.2\.15")
        return b

    def provision(self, b, target, more=()):
        for c in ("domain add example.test", "user add alice@example.test alice-pw",
                  "alias add fwd@example.test " + target,
                  "set dns 10.0.2.2:%d" % self.dns.port) + tuple(more):
            self.assertNotIn("error:", b.command(c), c)

    def send(self, b):
        import smtplib
        with smtplib.SMTP("127.0.0.1", b.offset + 25, timeout=30) as s:
            s.ehlo("client.example.test")
            self.assertEqual(s.sendmail("alice@example.test", ["fwd@example.test"], BODY), {})

    def poweroff(self):
        self.board.send("poweroff")
        self.assertEqual(self.board.wait(30), 0)
        self.board.kill()
        self.board = None

    def assert_no_mail_in_plaintext(self, sink):
        """Before TLS only EHLO and STARTTLS (or QUIT) went to this MX."""
        for line in sink.plain.split(b"\r\n"):
            if line:
                self.assertRegex(line, rb"^(EHLO \S+|STARTTLS|QUIT)$")
        self.assertNotIn(b"hello", sink.plain)

    def test_tlsa_match_delivers_over_tls(self):
        self.domain("dane.example.net", "10.0.2.101", b"\x03\x01\x01" + self.good[3])
        sink = self.sink()
        b = self.boot([("10.0.2.101:25", sink)])
        self.provision(b, "bob@dane.example.net")
        self.send(b)
        b.expect(r"validated TLSA, 1 usable record\(s\): TLS required", timeout=60)
        b.expect(r"mx\.dane\.example\.net\[10\.0\.2\.101\]:25: TLSv1\.[23] \S+, dane=matched\(DANE-EE\)")
        b.expect(r"to=<bob@dane\.example\.net> relay=mx\.dane\.example\.net\[10\.0\.2\.101\]:25 "
                 r"tls=TLSv1\.[23] dane=matched\(DANE-EE\) status=sent")
        time.sleep(1)
        self.assertEqual(len(sink.messages), 1)
        mail, rcpts, data, tls = sink.messages[0]
        self.assertTrue(tls)
        self.assertEqual(rcpts, ["bob@dane.example.net"])
        self.assertTrue(data.endswith(BODY))
        self.assert_no_mail_in_plaintext(sink)
        # The show log lines carry the same.
        self.assertIn("dane=matched(DANE-EE)", b.command("show log 40"))
        self.poweroff()

    def test_tlsa_dane_ta_match_delivers(self):
        # 2 0 1: the CA's certificate, sent by the server after its own.
        self.domain("ta.example.net", "10.0.2.101", b"\x02\x00\x01" + self.chain[2])
        sink = self.sink(cert=self.chain[:2])
        b = self.boot([("10.0.2.101:25", sink)])
        self.provision(b, "bob@ta.example.net")
        self.send(b)
        b.expect(r"to=<bob@ta\.example\.net> \S+ tls=TLSv1\.[23] dane=matched\(DANE-TA\) status=sent",
                 timeout=60)
        time.sleep(1)
        self.assertEqual(len(sink.messages), 1)
        self.poweroff()

    def test_tlsa_mismatch_defers_and_sends_nothing(self):
        # The TLSA record is for another key; a second MX does not offer
        # STARTTLS at all.  Both fail; the message waits; no mail was sent.
        self.domain("bad.example.net", "10.0.2.102", b"\x03\x01\x01" + self.other[3])
        test_dns.ZONE["bad.example.net"][T_MX] = (60, [
            struct.pack(">H", 10) + test_dns.wire_name("mx.bad.example.net"),
            struct.pack(">H", 20) + test_dns.wire_name("mx2.bad.example.net")], False)
        test_dns.ZONE["mx2.bad.example.net"] = {T_A: (60, [socket.inet_aton("10.0.2.103")], True)}
        test_dns.ZONE["_25._tcp.mx2.bad.example.net"] = {T_TLSA: (60, [b"\x03\x01\x01" + self.good[3]], True)}
        first, second = self.sink(), self.sink(starttls=False)
        b = self.boot([("10.0.2.102:25", first), ("10.0.2.103:25", second)])
        self.provision(b, "bob@bad.example.net")
        self.send(b)
        b.expect(r"mx\.bad\.example\.net\[10\.0\.2\.102\]:25: DANE: the certificate matches no TLSA record; "
                 r"this host is skipped", timeout=60)
        b.expect(r"mx2\.bad\.example\.net\[10\.0\.2\.103\]:25: TLS is required and the server does not "
                 r"offer STARTTLS")
        b.expect(r"to=<bob@bad\.example\.net> relay=none tls=no \S+ status=deferred \(451 4\.4\.1")
        out = b.command("show queue")
        self.assertIn("attempts 1 to <bob@bad.example.net>", out)
        time.sleep(1)
        self.assertEqual(first.messages, [])
        self.assertEqual(second.messages, [])
        self.assertEqual(first.handshakes, 0)
        self.assert_no_mail_in_plaintext(first)
        self.assert_no_mail_in_plaintext(second)
        self.assertNotIn(b"MAIL FROM", first.plain + second.plain)
        self.poweroff()

    def test_without_validated_tlsa_opportunistic_starttls(self):
        # A TLSA record that would not match, but not validated (no AD):
        # DANE does not apply; STARTTLS is used as offered.
        self.domain("plain.example.net", "10.0.2.103", b"\x03\x01\x01" + self.other[3], ad=False)
        sink = self.sink()
        b = self.boot([("10.0.2.103:25", sink)])
        self.provision(b, "bob@plain.example.net")
        self.send(b)
        b.expect(r"mx\.plain\.example\.net\[10\.0\.2\.103\]:25: TLSv1\.[23] \S+, dane=no", timeout=60)
        b.expect(r"to=<bob@plain\.example\.net> \S+ tls=TLSv1\.[23] dane=no status=sent")
        time.sleep(1)
        self.assertEqual(len(sink.messages), 1)
        self.assertTrue(sink.messages[0][3])
        self.poweroff()

    def test_relayhost_auth_over_starttls(self):
        sink = self.sink(auth=("relay-user", "relay-pw"))
        b = self.boot([("10.0.2.104:587", sink)])
        self.provision(b, "bob@anywhere.example", (
            "set relayhost [10.0.2.104]:587", "set relayhost-auth relay-user relay-pw",
            # A relay host given as an address is checked by its pin (the
            # bundled CA roots need a name: test_relayhost_ca.py).
            "set relayhost-fingerprint " + self.good[2].hex()))
        self.send(b)
        b.expect(r"to=<bob@anywhere\.example> relay=10\.0\.2\.104\[10\.0\.2\.104\]:587 tls=TLSv1\.[23] "
                 r"pin=matched status=sent", timeout=60)
        time.sleep(1)
        self.assertEqual(len(sink.messages), 1)
        self.assertTrue(sink.messages[0][3])
        self.assertTrue(sink.messages[0][2].endswith(BODY))
        # The login went only inside TLS.
        self.assertNotIn(b"AUTH", sink.plain)
        self.assertTrue(any(l.startswith(b"AUTH PLAIN ") for l in sink.tls_lines))
        # The password is in no log line.
        self.assertNotIn("relay-pw", b.command("show log 60"))
        self.poweroff()

    def test_relayhost_implicit_tls_pinned(self):
        sink = self.sink(starttls=False, implicit=True, auth=("u@example", "pw 2"))
        b = self.boot([("10.0.2.104:465", sink)])
        self.provision(b, "bob@anywhere.example", (
            "set relayhost [10.0.2.104]:465", "set relayhost-tls implicit",
            "set relayhost-auth u@example pw",
            "set relayhost-fingerprint " + ":".join("%02X" % x for x in self.other[2])))
        self.assertIn("error:", b.command("set relayhost-fingerprint 12:34"))
        self.assertIn("error:", b.command("set relayhost-tls sometimes"))
        # Pinned to another certificate: refused, deferred, nothing sent.
        self.send(b)
        b.expect(r"TLS: the certificate does not match the pinned fingerprint", timeout=60)
        b.expect(r"status=deferred")
        self.assertEqual(sink.messages, [])
        self.assertEqual(sink.plain, b"")
        # The right pin, but a password the server refuses: still deferred.
        self.assertNotIn("error:", b.command("set relayhost-fingerprint " + self.good[2].hex()))
        b.command("queue flush")
        b.expect(r"AUTH: 535 5\.7\.8", timeout=60)
        self.assertEqual(sink.messages, [])
        # Settings survive a reboot; with the right password it goes out.
        b.send("reboot")
        b.expect(r"network: address 10\.0\.2\.15")
        self.assertNotIn("error:", b.command('set relayhost-auth u@example "pw 2"'))
        b.command("queue flush")
        b.expect(r"relay=10\.0\.2\.104\[10\.0\.2\.104\]:465 tls=TLSv1\.[23] pin=matched status=sent",
                 timeout=60)
        time.sleep(1)
        self.assertEqual(len(sink.messages), 1)
        self.assertEqual(sink.plain, b"")
        self.poweroff()


if __name__ == "__main__":
    unittest.main()
