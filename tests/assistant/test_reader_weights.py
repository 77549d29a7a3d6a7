"""The word-embedding table read row by row gives the stored rows (as float32, in the
ids' shape) and refuses ids outside the table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from assistant.reader.weights import RowTable, map_tensor


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_rows_read_on_demand_equal_the_stored_rows(tmp_path: Path, dtype: type) -> None:
    rng = np.random.default_rng(0)
    table = rng.standard_normal((50, 8)).astype(dtype)
    path = tmp_path / "t.safetensors"
    save_file({"before": np.ones(3, dtype=np.float32), "words": table}, str(path))
    rows = RowTable(path, "words")
    ids = np.array([[0, 49, 7, 7], [3, 3, 3, 1]], dtype=np.int64)
    got = rows[ids]
    assert got.dtype == np.float32 and got.shape == (2, 4, 8)
    np.testing.assert_array_equal(got, table[ids].astype(np.float32))
    np.testing.assert_array_equal(got, np.asarray(map_tensor(path, "words"))[ids])
    with pytest.raises(IndexError):
        rows[np.array([[50]])]
