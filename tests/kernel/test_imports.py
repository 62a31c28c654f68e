"""``%load_ext kernel_magics`` stays light: nothing heavy is imported until used."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["pandas", "matplotlib", "sqlalchemy", "papermill", "tornado", "jupyter_server",
         "ipywidgets", "sklearn", "numpy"]  # fmt: skip


def test_load_ext_imports_nothing_heavy():
    code = (
        "import sys, json\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "before = set(sys.modules)\n"
        "sh = InteractiveShell.instance()\n"
        "sh.run_line_magic('load_ext', 'kernel_magics')\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules and m not in before)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
