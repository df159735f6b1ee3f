"""The code location `dg dev` and `dagster dev` load: everything in the defs folder."""

import warnings
from pathlib import Path

import dagster as dg

# Single-run backfill policies are marked beta; the warning would repeat in every process's log.
warnings.filterwarnings("ignore", category=dg.BetaWarning)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
