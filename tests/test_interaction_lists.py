"""interactions/rsvps/SLUG.yaml and reactions.yaml's `by:` lists: loaded, and refused
entry by entry with PATH:LINE when a hand-edited file is wrong."""

from __future__ import annotations

from pathlib import Path

from commsite.content.interactions import load_interactions

ADA = """\
- author_name: Ada Okafor
  author_handle: '@ada@social.example'
  author_url: https://social.example/@ada
  author_actor: https://social.example/users/ada
  answer: going
  via: poll
  answered: '2027-03-01T10:00:00+00:00'
"""


def _site(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / "interactions" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_rsvps_load_per_event_oldest_first(tmp_path: Path) -> None:
    ben = ADA.replace("Ada Okafor", "Ben").replace("ada", "ben").replace("01T10", "01T09")
    ben = ben.replace("going", "maybe").replace("via: poll", "via: join\n  public: true")
    root = _site(tmp_path, {"rsvps/repair-day.yaml": ADA + ben})
    interactions, problems = load_interactions(root)
    assert problems == []
    assert [(r.event, r.author_name, r.answer, r.via, r.public) for r in interactions.rsvps] == [
        ("repair-day", "Ben", "maybe", "join", True),
        ("repair-day", "Ada Okafor", "going", "poll", False),
    ]
    assert interactions.rsvps[1].source == "interactions/rsvps/repair-day.yaml"


def test_bad_rsvp_entries_are_left_out_with_their_line(tmp_path: Path) -> None:
    bad = ADA.replace("answer: going", "answer: yes").replace("https://social", "javascript://x")
    root = _site(tmp_path, {"rsvps/repair-day.yaml": ADA + bad + ADA})
    interactions, problems = load_interactions(root)
    assert [r.author_name for r in interactions.rsvps] == ["Ada Okafor"]
    messages = [f"{p.path}:{p.line}: {p.message}" for p in problems]
    assert any(
        m.startswith("interactions/rsvps/repair-day.yaml:8: 'author_url' must be a web address")
        for m in messages
    ), messages
    assert any(
        m.startswith("interactions/rsvps/repair-day.yaml:8: 'answer' must be one of")
        for m in messages
    )
    assert any("a second answer from @ada@social.example (first at line 1)" in m for m in messages)


def test_waiting_only_means_something_for_going(tmp_path: Path) -> None:
    text = ADA.replace("answer: going", "answer: maybe") + "  waiting: true\n"
    interactions, problems = load_interactions(_site(tmp_path, {"rsvps/x.yaml": text}))
    assert problems == [] and interactions.rsvps[0].waiting is False


def test_reactions_by_who(tmp_path: Path) -> None:
    text = """\
stories/hello:
  likes: 2
  boosts: 0
  by:
  - kind: like
    author_name: Ada
    author_handle: '@ada@social.example'
    author_url: https://social.example/@ada
  - kind: wave
    author_name: Eve
    author_handle: '@eve@evil.example'
    author_url: https://evil.example/@eve
events/old:
  likes: 1
  boosts: 1
"""
    interactions, problems = load_interactions(_site(tmp_path, {"reactions.yaml": text}))
    by_target = {r.target: r for r in interactions.reactions}
    assert [(p.kind, p.author_name) for p in by_target["stories/hello"].by] == [("like", "Ada")]
    assert by_target["events/old"].by == ()
    assert [(p.line, p.message) for p in problems] == [
        (9, "stories/hello, who reacted: 'kind' must be 'like' or 'boost' (got 'wave')")
    ]
