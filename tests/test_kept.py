"""serve's caches keep entries across builds that do not touch them, and drop them once long unused."""

from __future__ import annotations

from site_builder.cache.kept import KeptWhileUsed


def test_an_entry_survives_builds_that_do_not_use_it_while_the_table_is_small() -> None:
    table: KeptWhileUsed[str, int] = KeptWhileUsed(floor=4)
    table.put("apps table row", 1)
    for _ in range(50):  # fifty policy edits, none reaching the row
        table.end_build()
    assert table.get("apps table row") == 1


def test_entries_unused_for_a_whole_epoch_go_when_the_table_has_doubled() -> None:
    table: KeptWhileUsed[str, int] = KeptWhileUsed(floor=2)
    table.put("old app", 1)
    table.put("kept app", 2)
    table.end_build()
    assert len(table) == 2  # not past twice the floor: no sweep
    table.put("edit 1", 3)
    table.put("edit 2", 4)
    table.put("edit 3", 5)
    table.end_build()  # five entries, past twice the floor: an epoch ends; the next starts with none used
    sizes = []
    for number in range(4, 10):
        assert table.get("kept app") == 2
        table.put(f"edit {number}", number)
        table.end_build()
        sizes.append(len(table))
    assert sizes == [6, 7, 8, 9, 10, 7]  # past twice five: what the epoch did not use is gone
    assert table.get("old app") is None and table.get("edit 1") is None
    assert table.get("kept app") == 2 and table.get("edit 9") == 9


def test_clear_forgets_everything() -> None:
    table: KeptWhileUsed[str, int] = KeptWhileUsed()
    table.put("a", 1)
    table.clear()
    assert table.get("a") is None and len(table) == 0
