"""The `.pth` reader under fuzzing: thousands of mutated fixtures, each loaded exactly, refused, or decoded the same
way by an independent reader; none crashes, hangs or exceeds the memory bound (tests/pth_fuzz.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = 3000  # about 10-20 s on 2 cores


def test_mutated_fixtures_are_loaded_or_refused_never_worse(tmp_path):
    progress = tmp_path / "progress.txt"
    summary_file = tmp_path / "fuzz.json"
    done = subprocess.run([sys.executable, str(HERE / "pth_fuzz.py"), "--cases", str(CASES), "--seed", "0",
                           "--memory-mib", "1024", "--progress", str(progress), "--json", str(summary_file)],
                          capture_output=True, text=True, timeout=600)
    running = progress.read_text().strip() if progress.exists() else "?"
    assert done.returncode in (0, 1), f"the fuzz process died (exit {done.returncode}) in case {running}: " \
                                      f"{done.stderr[-2000:]}"
    summary = json.loads(summary_file.read_text())
    print(json.dumps({k: v for k, v in summary.items() if k != "by_mutation"}))
    assert summary["failures"] == [], summary["failures"]
    assert sum(summary["outcomes"].values()) == CASES
    assert set(summary["outcomes"]) == {"same", "changed", "refused"}, summary["outcomes"]  # every path taken
    assert summary["peak_mib"] < 200, summary
    assert summary["slowest_case_s"] < 10, summary
