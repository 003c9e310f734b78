"""`make bench`: what users feel, measured against the local stack, per engine (texts spoken verbatim).

Every figure is measured for each engine in the same run, the engine named in each start request:
espeak-ng, and hibari (the neural English voice the local stack now picks for English by default).
Each engine's wall time is compared with the engine run alone on the same text, in the same run, the
runs alternated with ours so that a busy neighbour weighs on both alike (measurements/engine_alone.py).

The stack runs as deployed, captions on; the first segment and the long text's wall time are also
measured on a second stack with CAPTIONS=false, a session on each in turn: what captions cost.

Writes bench/results/latest.json (a section per engine) and bench/results/latest.png (one timeline
per engine) and prints a table with a row per engine. `--smoke` is the short version CI runs so that
this script cannot rot; its figures mean nothing.

Here: the order of the measurements. Beside it: what is run (plan.py), the stack (stack.py, started
by devstack/launcher.py as the tests start it), one module per measurement (measurements/), the goals
(goals.py), the prices (costs.py), and the report (report/: the tables and the picture).
"""

from __future__ import annotations

import sys
from pathlib import Path

# The product's packages, as `make bench` puts them on PYTHONPATH (so that `python bench/run.py` runs too).
_REPO = Path(__file__).resolve().parents[1]
sys.path[1:1] = [str(_REPO / "layers" / "core"), str(_REPO)]

from suite import main  # noqa: E402

if __name__ == "__main__":
    main(__doc__.splitlines()[0])
