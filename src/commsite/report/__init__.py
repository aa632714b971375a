"""`commsite report`: a community health report for the organisers, tracking nobody.

Read from the repository (content/, interactions/) and, when there is one,
the sidecar's store (read-only); nothing else: no visitor is counted, no
other server asked. Written outside the published output (by default into
the data directory, `.commsite/report/`).

Modules: model (the numbers as dataclasses), people (one key per person),
conversations and commitment (pure computations), numbers (the whole report),
store (the SQLite snapshot), charts (matplotlib), page (HTML), output (files).

Definitions (dates in the site's time zone; "the window" is --months N
months ending with the current one, default 12, or --since DATE on):

- **person**: a listed member (content/member_match.py: handle, FEP-2c59
  webfinger or actor URL), the community account, or anyone else by actor URL
  (else handle); the community account is never counted among people.
- **new members per month**: members by the month of their `joined` date
  (members without one are counted apart); **introductions per month**: by
  the month the introduction was published. Window months only.
- **replies per story and event**: replies in the window in each story's or
  event's thread (interactions/replies/...), and how many distinct people wrote
  them; listed when there is at least one.
- **whom the replies answer** (replies in the window): *member to member*:
  a member's reply to another member's reply, or to a story another member
  wrote (the replier not among its authors); a member answering themselves
  does not count. *To the community*: any other reply to a story or event
  itself, or to the community account's own reply. *By the community*: the
  community account's own replies. *Other*: the rest (a non-member's reply
  to a reply, a reply to oneself, a reply to a post not in interactions/).
  The share is member to member / all replies.
- **commitment curve** (all time): distinct people who follow the account
  (the store's followers; unknown without a store), liked or boosted (the
  `by:` of reactions.yaml; counts without names are reported apart), replied,
  posted an introduction, answered going or maybe to an event, went (going,
  not on the waiting list, to an event that is over and not cancelled),
  hosted an event or wrote a story. "Go no further": people whose furthest
  step it is.
- **first-timers who came back**: people who went to an event (as above),
  and those who went to a later one too; per event, whose first it was.
- **newcomers nobody has answered**: introductions in interactions/ with no
  reply (in_reply_to their id or URL) from the community account or a member
  other than themselves, and no welcome reply recorded in the store; then the
  introductions waiting for moderation in the store. Oldest first.
- **members nobody has replied to in 90 days**: members who wrote a story or
  a reply, with no reply from anyone else to one of their replies or stories
  in the last 90 days (or ever). Longest-unanswered first.
"""
