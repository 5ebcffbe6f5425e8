"""The diff between two editions, on the versions fixture whose changes are known (see its README).

Pure: the fixture's two working copies are loaded where they are (read only) and compared; no
site is built here. The pages and the terminal output that lay the diff out are in test_releases.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder.releases.diff import (
    ADDED,
    CHANGE,
    CHANGED,
    DELETE,
    EQUAL,
    INSERT,
    REMOVED,
    Block,
    Span,
    diff_blocks,
    diff_editions,
    html_blocks,
    new_text,
    old_text,
    tokens,
    word_diff,
)
from site_builder.errors import Problems
from site_builder.releases.project import load_edition
from site_builder.content.model import Edition
from versions_tools import VERSIONS


def load(state: str) -> Edition:
    problems = Problems()
    edition = load_edition(VERSIONS / state / "content", f"{state}/content", problems)
    assert edition is not None and not problems.items, [str(p) for p in problems.items]
    return edition


@pytest.fixture(scope="module")
def changes():
    return diff_editions(load("v1"), load("v2"))


# --- word diff --------------------------------------------------------------------------------------


def test_a_changed_number_is_exactly_that_number() -> None:
    assert word_diff("We fix critical issues within 72 hours.", "We fix critical issues within 48 hours.") == (
        Span(EQUAL, "We fix critical issues within "),
        Span(DELETE, "72"),
        Span(INSERT, "48"),
        Span(EQUAL, " hours."),
    )


def test_adjacent_replaced_words_read_as_one_change() -> None:
    assert word_diff("kept for 30 days", "kept for two weeks") == (Span(EQUAL, "kept for "), Span(DELETE, "30 days"), Span(INSERT, "two weeks"))


def test_punctuation_is_a_token_of_its_own() -> None:
    assert tokens("TLS 1.2, or later.") == ["TLS", " ", "1", ".", "2", ",", " ", "or", " ", "later", "."]
    assert word_diff("TLS 1.2 or later", "TLS 1.3 or later") == (Span(EQUAL, "TLS 1."), Span(DELETE, "2"), Span(INSERT, "3"), Span(EQUAL, " or later"))


def test_pure_insertions_and_deletions() -> None:
    assert word_diff("", "new") == (Span(INSERT, "new"),)
    assert word_diff("old", "") == (Span(DELETE, "old"),)
    assert word_diff("same", "same") == (Span(EQUAL, "same"),)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab .,1\n\t\u00e9"), max_size=40), st.text(alphabet=st.sampled_from("ab .,1\n\t\u00e9"), max_size=40))
def test_a_word_diff_always_gives_back_both_texts(old: str, new: str) -> None:
    spans = word_diff(old, new)
    assert old_text(spans) == old and new_text(spans) == new
    assert all(s.text for s in spans)
    assert all(a.op != b.op for a, b in zip(spans, spans[1:]))  # adjacent spans are merged
    assert word_diff(old, new) == spans  # deterministic


# --- blocks -------------------------------------------------------------------------------------------


def test_section_html_is_read_block_by_block_with_link_targets() -> None:
    html = (
        '<p>Write to <a href="mailto:s@x.example">s@x.example</a> or use the <a href="https://x.example/portal">portal</a>'
        ' (see <a href="#contact">contact</a><sup id="r"><a class="footnote-ref" href="#c-fn-1">1</a></sup>).</p>\n'
        "<ul>\n<li>One</li>\n<li>Two<ul><li>Nested</li></ul></li>\n</ul>\n<h3 id=\"c-more\">More</h3>\n"
        "<table><thead><tr><th>State</th><th>Protection</th></tr></thead><tbody><tr><td>At rest</td><td>AES-256</td></tr></tbody></table>\n"
        "<ol><li><p>Loose item</p></li></ol><p>Line<br>break <img alt=\"diagram\" src=\"https://x.example/d.png\"></p>"
    )
    assert html_blocks(html) == (
        Block("p", "Write to s@x.example or use the portal (https://x.example/portal) (see contact1)."),
        Block("li", "One"),
        Block("li", "Two"),
        Block("li", "Nested"),
        Block("h", "More"),
        Block("row", "State | Protection"),
        Block("row", "At rest | AES-256"),
        Block("li", "Loose item"),
        Block("p", "Line break [image: diagram]"),
    )


def test_a_moved_link_target_is_a_change() -> None:
    old = html_blocks('<p>Use the <a href="https://x.example/old">portal</a>.</p>')
    new = html_blocks('<p>Use the <a href="https://x.example/new">portal</a>.</p>')
    [change] = diff_blocks(old, new)
    assert change.op == CHANGE and Span(DELETE, "old") in change.spans and Span(INSERT, "new") in change.spans


def test_blocks_pair_with_their_most_similar_counterpart() -> None:
    old = (Block("p", "We reply within one business day."), Block("p", "Critical fixes ship within 72 hours."))
    new = (Block("p", "A new opening paragraph about something else entirely."), Block("p", "We reply within one business day."), Block("p", "Critical fixes ship within 48 hours."))
    ops = [(c.op, old_text(c.spans), new_text(c.spans)) for c in diff_blocks(old, new)]
    assert ops == [
        (INSERT, "", "A new opening paragraph about something else entirely."),
        (EQUAL, "We reply within one business day.", "We reply within one business day."),
        (CHANGE, "Critical fixes ship within 72 hours.", "Critical fixes ship within 48 hours."),
    ]
    unrelated = diff_blocks((Block("p", "Alpha beta gamma."),), (Block("p", "Completely different words here."),))
    assert [c.op for c in unrelated] == [DELETE, INSERT]


# --- the fixture's known changes ------------------------------------------------------------------------


def test_document_facts(changes) -> None:
    facts = {f.label: f for f in changes.facts}
    assert set(facts) == {"Critical fixes deployed", "Last reviewed"}
    assert facts["Critical fixes deployed"].spans == (Span(EQUAL, "within "), Span(DELETE, "5"), Span(INSERT, "3"), Span(EQUAL, " days"))
    reviewed = facts["Last reviewed"]
    assert (reviewed.old, reviewed.new, reviewed.old_date, reviewed.new_date) == ("15 June 2025", "20 August 2025", date(2025, 6, 15), date(2025, 8, 20))


def test_sections_added_removed_and_changed_in_reading_order(changes) -> None:
    assert [(s.anchor, s.status) for s in changes.sections] == [
        ("encryption", CHANGED),
        ("access-control", CHANGED),
        ("legacy-hosting", REMOVED),
        ("incident-response", ADDED),
    ]
    assert changes.unchanged_sections == 1  # introduction
    assert (changes.count(CHANGED), changes.count(ADDED), changes.count(REMOVED)) == (2, 1, 1)


def test_a_changed_section_word_by_word(changes) -> None:
    encryption = next(s for s in changes.sections if s.anchor == "encryption")
    ops = [(b.op, b.kind, old_text(b.spans), new_text(b.spans)) for b in encryption.blocks]
    assert ops == [
        (CHANGE, "p", "Data in transit uses TLS 1.2 or later.", "Data in transit uses TLS 1.3 or later."),
        (EQUAL, "li", "Data at rest is encrypted with AES-256.", "Data at rest is encrypted with AES-256."),
        (EQUAL, "li", "Keys are managed by Atlassian.", "Keys are managed by Atlassian."),
        (INSERT, "li", "", "Backups are encrypted too."),
        (EQUAL, "row", "Data state | Protection", "Data state | Protection"),
        (EQUAL, "row", "At rest | AES-256", "At rest | AES-256"),
    ]
    assert encryption.blocks[0].spans == (Span(EQUAL, "Data in transit uses TLS 1."), Span(DELETE, "2"), Span(INSERT, "3"), Span(EQUAL, " or later."))
    assert encryption.changed_blocks == 2 and not encryption.moved and encryption.title_spans == ()


def test_a_retitled_section_keeps_its_anchor(changes) -> None:
    access = next(s for s in changes.sections if s.anchor == "access-control")
    assert (access.old_title, access.title) == ("Access control", "Access management")
    assert access.title_spans == (Span(EQUAL, "Access "), Span(DELETE, "control"), Span(INSERT, "management"))
    assert access.blocks == ()  # the body did not change


def test_removed_and_added_sections_carry_their_whole_text(changes) -> None:
    removed = next(s for s in changes.sections if s.anchor == "legacy-hosting")
    added = next(s for s in changes.sections if s.anchor == "incident-response")
    assert [(b.op, old_text(b.spans)) for b in removed.blocks] == [(DELETE, "Some data is still kept on our own servers in Frankfurt.")]
    assert [(b.op, new_text(b.spans)) for b in added.blocks] == [(INSERT, "We tell affected customers within 72 hours of confirming an incident.")]


def test_a_moved_section_is_flagged() -> None:
    old, new = load("v1"), load("v1")
    reordered = Edition(new.site, (new.sections[1], new.sections[0], *new.sections[2:]), new.apps)
    result = diff_editions(old, reordered)
    assert [(s.anchor, s.status, s.moved, s.blocks) for s in result.sections] == [("encryption", CHANGED, True, ())]
    assert result.unchanged_sections == 3


def test_an_unchanged_edition_is_empty() -> None:
    result = diff_editions(load("v2"), load("v2"))
    assert result.empty and result.unchanged_sections == 4 and result.unchanged_apps == 3


# --- apps ---------------------------------------------------------------------------------------------------


def test_apps_added_removed_changed_and_unchanged(changes) -> None:
    assert [(a.slug, a.status) for a in changes.apps] == [("alpha", CHANGED), ("beta", REMOVED), ("gamma", ADDED)]
    assert changes.unchanged_apps == 1  # delta
    assert [a.slug for a in changes.permission_changes] == ["alpha", "beta", "gamma"]


def test_an_apps_new_scope_destination_and_verdict(changes) -> None:
    alpha = next(a for a in changes.apps if a.slug == "alpha")
    assert [(r.scope, r.access, r.product, r.allow_impersonation) for r in alpha.scopes_added] == [("write:issue:jira", "write", "Jira", False)]
    assert alpha.scopes_removed == ()
    assert [(b.scope, b.allow_impersonation, a.allow_impersonation) for b, a in alpha.scopes_changed] == [("read:issue:jira", False, True)]
    assert [(d.kind, d.address, d.end_user_data) for d in alpha.egress_added] == [("backend", "https://api.alpha.example", True)]
    assert alpha.egress_removed == () and alpha.egress_changed == ()
    assert (alpha.verdict_before.eligible, alpha.verdict_after.eligible, alpha.verdict_changed) == (True, False, True)
    assert len(alpha.reasons_added) == 1 and "https://api.alpha.example" in alpha.reasons_added[0]
    assert alpha.data_stored_added == ("Panel settings per project",) and alpha.data_processed_added == ()
    assert new_text(alpha.retention_spans) == "Settings are deleted when the app is uninstalled."
    assert alpha.permissions_changed


def test_a_removed_app_loses_everything_and_an_added_app_brings_everything(changes) -> None:
    beta = next(a for a in changes.apps if a.slug == "beta")
    assert [r.scope for r in beta.scopes_removed] == ["read:page:confluence"] and beta.verdict_after is None
    gamma = next(a for a in changes.apps if a.slug == "gamma")
    assert [r.scope for r in gamma.scopes_added] == ["read:page:confluence"]
    assert [(d.address, d.category, d.end_user_data) for d in gamma.egress_added] == [("in.accoil.com", "analytics", False)]
    assert gamma.verdict_before is None and gamma.verdict_after.eligible and gamma.verdict_after.reasons == ()


def test_a_destination_that_may_now_carry_end_user_data_is_a_change() -> None:
    old, new = load("v2"), load("v2")
    gamma = next(a for a in new.apps if a.slug == "gamma")
    row = gamma.egress[0]
    from dataclasses import replace

    changed = replace(gamma, egress=(replace(row, end_user_data=True),))
    result = diff_editions(old, Edition(new.site, new.sections, tuple(changed if a.slug == "gamma" else a for a in new.apps)))
    [app] = result.apps
    [(before, after)] = app.egress_changed
    assert (before.end_user_data, after.end_user_data) == (False, True)
    assert app.permissions_changed


def test_a_formatting_only_change_is_listed_with_every_block_equal() -> None:
    old, new = load("v1"), load("v1")
    [intro, *rest] = new.sections
    from dataclasses import replace

    reformatted = replace(intro, body_html=intro.body_html.replace("<p>", "<p><strong>").replace("</p>", "</strong></p>"))
    result = diff_editions(old, Edition(new.site, (reformatted, *rest), new.apps))
    [change] = result.sections
    assert change.status == CHANGED and change.blocks and change.changed_blocks == 0
