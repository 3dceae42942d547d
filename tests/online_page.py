"""Run one example as a reader with internet would: ``python tests/online_page.py FOLDER EXAMPLE``.

The network serves only the canonical-format fixtures that :func:`tests.canonical.write_all` wrote
under ``FOLDER`` (every other address fails as without a network); then ``EXAMPLE`` runs as
``__main__``, as ``python EXAMPLE`` would run it.
"""

import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.canonical import serve_folder  # noqa: E402

if __name__ == "__main__":
    folder, example = Path(sys.argv[1]), Path(sys.argv[2]).resolve()
    serve_folder(folder)
    sys.argv = [str(example)]
    runpy.run_path(str(example), run_name="__main__")
