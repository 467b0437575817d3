"""The sim board's --guestfwd: a connection the appliance opens to
GUESTIP:PORT reaches a server on the host, both ways.  (This is how tests
will hand the appliance's outbound mail to a sink on the host.)  The test
build's diag listener dials 10.0.2.100:25 once its network is up."""
import socket
import threading
import unittest

from board import SIM_DIAG, start_sim


class GuestForward(unittest.TestCase):
    def test_appliance_reaches_host_sink(self):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        srv.settimeout(30)
        port = srv.getsockname()[1]
        got = []

        def sink():
            c, _ = srv.accept()
            c.settimeout(10)
            got.append(c.recv(100))
            c.sendall(b"250 sink ready\r\n")
            c.close()

        t = threading.Thread(target=sink, daemon=True)
        t.start()
        b = start_sim(binary=SIM_DIAG, extra=["--guestfwd", "10.0.2.100:25=127.0.0.1:%d" % port])
        try:
            b.expect(r"diag: guestfwd peer said: 250 sink ready", timeout=30)
            t.join(10)
            self.assertEqual(got, [b"HELO from pillarbox\r\n"])
            b.send("poweroff")
            self.assertEqual(b.wait(20), 0)
        finally:
            b.kill()
            srv.close()

    def test_bad_guestfwd_is_refused(self):
        b = start_sim(extra=["--guestfwd", "10.0.2.100=127.0.0.1:25"])
        try:
            self.assertEqual(b.wait(20), 2)
            self.assertIn("--guestfwd wants GUESTIP:PORT=HOSTIP:PORT", b.out)
        finally:
            b.kill()


if __name__ == "__main__":
    unittest.main()
