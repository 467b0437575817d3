"""Power cuts against the flash store, through build/test/powerloss/workload.

The workload (tests/powerloss/workload.c) delivers messages to three
mailboxes, sets flags, expunges, changes a setting, aborts deliveries and
runs GC on a 128 KiB sim flash of 4 KiB blocks, journalling every commit.
Each run loses power at flash operation N (the operation is torn: a prefix
of a program, or of an erase); the checker then remounts, runs the full
consistency check and compares the store with the journal.

  - exhaustive: every N from 1 to 3000 (the workload makes about 4000);
  - random: 10,000 runs at random N over the whole workload, another seed;
  - make powerloss-long (PB_POWERLOSS_LONG=1): every N of the workload and
    100,000 random runs.

Runs are split over two processes.
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKLOAD = os.path.join(ROOT, "build", "test", "powerloss", "workload")
LONG = os.environ.get("PB_POWERLOSS_LONG") == "1"
TXNS = "1500"
ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", UBSAN_OPTIONS="halt_on_error=1")


def scratch():
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    return tempfile.mkdtemp(prefix="pb-powerloss-", dir=base)


def run_parallel(argvs):
    """Run each argv in its own scratch directory at once; sum their counts."""
    dirs = [scratch() for _ in argvs]
    procs = [subprocess.Popen([WORKLOAD, a[0], d] + a[1:], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=ENV)
             for a, d in zip(argvs, dirs)]
    runs = cuts = fails = 0
    errors = []
    for p in procs:
        out, err = p.communicate(timeout=3600)
        m = re.search(r"runs (\d+) cut (\d+) failures (\d+)", out)
        if not m:
            errors.append("no summary (exit %d): %s" % (p.returncode, err[-2000:]))
            continue
        runs += int(m.group(1))
        cuts += int(m.group(2))
        fails += int(m.group(3))
        if int(m.group(3)):
            errors.append(err[-3000:])
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)
    return runs, cuts, fails, errors


class PowerCut(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        d = scratch()
        try:
            out = subprocess.run([WORKLOAD, "count", d, "--txns", TXNS], capture_output=True,
                                 text=True, env=ENV, timeout=600)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        cls.total_ops = int(out.stdout.strip() or 0)

    def test_whole_workload_checks(self):
        self.assertGreater(self.total_ops, 3000, "the workload should make some thousands of flash ops")
        d = scratch()
        try:
            flash, journal = os.path.join(d, "f.img"), os.path.join(d, "j")
            p = subprocess.run([WORKLOAD, "run", flash, journal, "--txns", TXNS], env=ENV,
                               capture_output=True, text=True, timeout=600)
            self.assertEqual(p.returncode, 0, p.stderr)
            p = subprocess.run([WORKLOAD, "check", flash, journal], env=ENV,
                               capture_output=True, text=True, timeout=600)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(journal) as f:
                self.assertIn("A 1 0", f.read())
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_checker_detects_a_lost_commit(self):
        d = scratch()
        try:
            flash, journal = os.path.join(d, "f.img"), os.path.join(d, "j")
            subprocess.run([WORKLOAD, "run", flash, journal, "--txns", "40"], env=ENV, check=True,
                           capture_output=True, timeout=600)
            # Erase the whole flash: every acknowledged commit is gone.
            size = os.path.getsize(flash)
            with open(flash, "r+b") as f:
                f.write(b"\xff" * size)
            p = subprocess.run([WORKLOAD, "check", flash, journal], env=ENV,
                               capture_output=True, text=True, timeout=600)
            self.assertNotEqual(p.returncode, 0)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_exhaustive_cuts(self):
        last = self.total_ops if LONG else min(3000, self.total_ops)
        mid = last // 2
        runs, cuts, fails, errors = run_parallel([
            ["sweep", "--from", "1", "--to", str(mid), "--txns", TXNS],
            ["sweep", "--from", str(mid + 1), "--to", str(last), "--txns", TXNS],
        ])
        print("powerloss: exhaustive cuts at N=1..%d: %d runs, %d cut, %d failures"
              % (last, runs, cuts, fails))
        self.assertEqual(runs, last)
        self.assertEqual(cuts, last)
        self.assertEqual(fails, 0, "\n".join(errors))

    def test_random_cuts(self):
        per = 50000 if LONG else 5000
        runs, cuts, fails, errors = run_parallel([
            ["random", "--runs", str(per), "--max", str(self.total_ops), "--cutseed", str(c),
             "--seed", "2", "--txns", TXNS] for c in (1, 2)
        ])
        print("powerloss: random cuts: %d runs, %d cut, %d failures" % (runs, cuts, fails))
        self.assertEqual(runs, 2 * per)
        self.assertGreater(cuts, runs * 9 // 10)
        self.assertEqual(fails, 0, "\n".join(errors))


if __name__ == "__main__":
    unittest.main()
