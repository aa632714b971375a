"""The welcome reply in `commsite moderate`: show the proposal, then send, edit or skip it.

`commsite moderate approve N` calls `offer_welcome` for each introduction it
approves, and `commsite moderate welcome N` for one approved earlier (or
approved at once by the moderation policy). The choice comes from
`--welcome send|edit|skip|ask`; without it, a terminal is asked and a script
is told how to decide later (nothing is sent on its behalf).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click

from commsite.content.loader import load_site
from commsite.errors import CommsiteError
from commsite.sidecar.handles import Resolver, open_fetcher
from commsite.sidecar.server import load_config_or_fail
from commsite.sidecar.store import Store
from commsite.sidecar.welcome import strip_comments
from commsite.sidecar.welcome_send import (
    IntroductionRow,
    Proposal,
    deliver,
    find_introduction,
    introductions_awaiting_welcome,
    proposal,
    send,
    skip,
    welcome_of,
)

__all__ = ["CHOICES", "list_awaiting", "offer_welcome"]

CHOICES = ("send", "edit", "skip", "ask")

EDIT_HELP = """\
# Write the welcome above these lines; lines starting with '#' are left out,
# and an empty text sends nothing. @user@host is a mention (they are
# notified); the newcomer is always addressed, even if you remove their handle.
"""


def _show(p: Proposal) -> None:
    intro = p.introduction
    click.echo(
        f"Welcome reply proposed for introduction #{intro.seq} ({intro.name}, {intro.handle}):"
    )
    for line in p.text.rstrip("\n").splitlines():
        click.echo(f"    {line}" if line else "")
    if p.members:
        for m in p.members:
            click.echo(f"  introduces {m.handle} ({m.name}): shares {', '.join(m.shared)}")
    else:
        click.echo(
            "  no member shares an interest found in the introduction;"
            " the welcome greets and links the rules"
        )


def _edit_template(p: Proposal, text: str) -> str:
    lines = [text.rstrip("\n"), "", EDIT_HELP.rstrip("\n")]
    if p.members:
        lines.append("# Proposed because they share interests:")
        lines += [f"#   {m.handle} ({m.name}): {', '.join(m.shared)}" for m in p.members]
    return "\n".join(lines) + "\n"


def _ask() -> str:
    answer: str = click.prompt(
        "Send it? [s]end, [e]dit, s[k]ip, [l]ater",
        type=click.Choice(["s", "send", "e", "edit", "k", "skip", "l", "later"]),
        default="s",
        show_choices=False,
    )
    return {"s": "send", "e": "edit", "k": "skip", "l": "later"}.get(answer, answer)


def offer_welcome(
    site: Path,
    store: Store,
    intro: IntroductionRow,
    choice: str | None,
    text: str | None,
    now: Callable[[], datetime],
    *,
    approving: bool = False,
) -> None:
    """Propose the welcome for `intro`, then do what the organiser chooses:
    `choice` (send, edit, skip, ask), else ask in a terminal. `text` replaces
    the proposed text (`edit` starts from it).

    A script approving (`approving`, no choice, no terminal) is not slowed
    down by a proposal it cannot answer: a line says how to decide later."""
    interactive = sys.stdin.isatty()
    if approving and choice is None and text is None and not interactive:
        click.echo(
            f"  introduction #{intro.seq} has no welcome yet: propose one with"
            f" `commsite moderate welcome {intro.seq}` (--welcome send|edit|skip)"
        )
        return
    config = load_config_or_fail(site)
    loaded, _diagnostics = load_site(site, now=now())
    if loaded is None:
        raise click.ClickException(
            "the site does not load, so its members cannot be matched; run 'commsite check'"
        )
    p = proposal(store, config, loaded.members, intro)
    _show(p)
    if choice is None:
        choice = "send" if text is not None else ("ask" if interactive else None)
    if choice == "ask":
        choice = _ask()
    if choice is None or choice == "later":
        click.echo(
            f"  not sent; later: commsite moderate welcome {intro.seq} --welcome send|edit|skip"
        )
        return
    if choice == "skip":
        skip(store, intro, now())
        click.echo(f"  welcome skipped for #{intro.seq}")
        return
    body = text if text is not None else p.text
    if choice == "edit":
        edited = click.edit(_edit_template(p, body), extension=".txt", require_save=True)
        body = strip_comments(edited or "")
        if not body:
            click.echo(f"  the welcome was left empty: nothing sent for #{intro.seq}")
            return
    fetcher = open_fetcher(site, config, now)
    try:
        sent = send(
            store,
            config,
            loaded.members,
            intro,
            body,
            Resolver(store, fetcher, now),
            now(),
            proposed=p.members,
        )
    except CommsiteError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"  welcome queued for {len(sent.inboxes)} inbox(es)")
    activity_id = sent.activity["id"]
    for outcome in deliver(store, fetcher, config, site, now):
        if outcome.activity_id != activity_id:
            continue
        if outcome.status == "delivered":
            click.echo(f"  delivered to {outcome.inbox}")
        elif outcome.status == "retry":
            click.echo(
                f"  {outcome.inbox}: {outcome.detail}; the sidecar retries it"
                f" (next at {outcome.next_attempt:%Y-%m-%d %H:%M} UTC)"
                if outcome.next_attempt
                else f"  {outcome.inbox}: {outcome.detail}; the sidecar retries it"
            )
        else:
            click.echo(f"  {outcome.inbox}: {outcome.status}: {outcome.detail}", err=True)


def welcome_subject(
    site: Path,
    store: Store,
    subject: str,
    choice: str | None,
    text: str | None,
    now: Callable[[], datetime],
) -> None:
    """`commsite moderate welcome SUBJECT`: an introduction by number or id."""
    intro = find_introduction(store, subject)
    if intro is None:
        raise click.ClickException(
            f"no introduction {subject!r}; see `commsite moderate welcome` for those waiting"
        )
    if intro.status != "approved":
        raise click.ClickException(
            f"introduction #{intro.seq} is {intro.status}; approve it first"
            f" (commsite moderate approve {intro.seq})"
        )
    decided = welcome_of(store, intro.ap_id)
    if decided is not None and decided[0] == "sent":
        raise click.ClickException(f"introduction #{intro.seq} was welcomed at {decided[1]}")
    offer_welcome(site, store, intro, choice, text, now)


def list_awaiting(store: Store, now: datetime) -> None:
    waiting = introductions_awaiting_welcome(store, now)
    for intro in waiting:
        click.echo(f"#{intro.seq} introduction from {intro.handle} ({intro.name})")
    n = len(waiting)
    click.echo(
        f"{n} introduction{'s' if n != 1 else ''} of the last 30 days without a welcome"
        + (f"; propose one: commsite moderate welcome {waiting[0].seq}" if waiting else "")
    )
