"""commsite.activitypub: the ActivityPub protocol as pure functions.

Documents (actor, objects, activities, outbox, WebFinger, NodeInfo, the poll's
Question), HTTP Signatures (signing, verifying, parsing public keys), and the
HTML an ActivityPub `content` carries. Data in, data out: nothing here opens a
file, a database or a socket (an import-linter contract in pyproject.toml says
so). What does I/O with them, fetching, storing followers, delivering and
publishing, is commsite.federation.
"""
