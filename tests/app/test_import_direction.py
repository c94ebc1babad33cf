"""The direction of imports (app <- eoi <- scoring <- contracts, no cycles in app/documents) is checked by
import-linter with the contracts in .importlinter; the SQLite run checks it too, not only .ci/run."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--config", str(config), "--no-cache"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_the_import_contracts_are_kept():
    result = _lint(ROOT / ".importlinter")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_a_broken_contract_fails_the_check(tmp_path):
    """Positive control: the same runner reports a contract the code breaks (eoi does import app)."""
    config = tmp_path / "importlinter.ini"
    config.write_text("[importlinter]\nroot_packages =\n    app\n    eoi\n\n"
                      "[importlinter:contract:control]\nname = control\ntype = forbidden\n"
                      "source_modules =\n    eoi\nforbidden_modules =\n    app\n")
    result = _lint(config)
    assert result.returncode != 0 and "BROKEN" in result.stdout
