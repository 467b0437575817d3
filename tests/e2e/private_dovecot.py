"""A private Dovecot instance for benchmarks (Debian's dovecot-imapd package).

Everything lives under one directory: the configuration, a self-signed
certificate, the runtime and state directories, the log and one user's
Maildir. It listens for IMAPS on one loopback port only, has one user with
a fixed password, and never reads or changes the system's own Dovecot
configuration. Start it with start(), stop it with stop() (safe to call
more than once, and after a failed start). Standard library only.
"""
import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
MAIL_USER = "nobody"        # the unprivileged owner of the Maildir

CONF = """\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
auth_mechanisms = plain
mail_location = maildir:{d}/mail
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/mail
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
  }}
}}
"""


def available():
    """Why Dovecot cannot be used here, or None when it can."""
    if not os.path.isabs(DOVECOT) or not os.path.exists(DOVECOT):
        return "dovecot is missing (install the dovecot-imapd package)"
    if os.getuid() != 0:
        return "a private Dovecot instance needs root"
    for user in ("dovecot", "dovenull", MAIL_USER):
        try:
            pwd.getpwnam(user)
        except KeyError:
            return "there is no %s user" % user
    return None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PrivateDovecot:
    def __init__(self, user="bench@example.test", password="bench-pw"):
        self.user, self.password = user, password
        self.dir = tempfile.mkdtemp(prefix="pillarbox-dovecot-")
        os.chmod(self.dir, 0o755)       # the mail user must reach its Maildir
        self.maildir = os.path.join(self.dir, "mail")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.maildir, sub))
        self.port = free_port()
        self.proc = None
        self._n = 0

    def add(self, message, seen=False):
        """Put one message (bytes) into the INBOX, as a delivery agent would."""
        self._n += 1
        name = "%d.M%dP%d.bench,S=%d:2,%s" % (1700000000 + self._n, self._n, os.getpid(),
                                              len(message), "S" if seen else "")
        with open(os.path.join(self.maildir, "cur", name), "wb") as f:
            f.write(message)

    def start(self, timeout=30):
        pw = pwd.getpwnam(MAIL_USER)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-keyout", os.path.join(self.dir, "key.pem"),
                        "-out", os.path.join(self.dir, "cert.pem")],
                       check=True, capture_output=True)
        for sub in ("run", "state"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        for root, dirs, files in os.walk(self.maildir):
            os.chown(root, pw.pw_uid, pw.pw_gid)
            for f in files:
                os.chown(os.path.join(root, f), pw.pw_uid, pw.pw_gid)
        conf = os.path.join(self.dir, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(CONF.format(d=self.dir, password=self.password, uid=pw.pw_uid,
                                gid=grp.getgrgid(pw.pw_gid).gr_gid, port=self.port))
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("dovecot exited: %s %s" % (self.proc.stderr.read().decode(),
                                                               self.log()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("dovecot did not listen on %d: %s" % (self.port, self.log()))

    def log(self):
        try:
            with open(os.path.join(self.dir, "dovecot.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.proc.stderr.close()
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)
