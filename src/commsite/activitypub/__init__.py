"""commsite.activitypub: the ActivityPub protocol as pure functions.

Documents, a module each: vocabulary (contexts, ids, JSON), discovery
(WebFinger, host-meta, NodeInfo), actor, objects (stories and events, with
their attachments), activities (Create, Update, Delete), outbox, poll (an
event's Question), and documents (all of them as the bytes the build
writes); HTTP Signatures (signing, verifying, parsing public keys), and the
HTML an ActivityPub `content` carries. Data in, data out: nothing here opens a
file, a database or a socket (an import-linter contract in pyproject.toml says
so). What does I/O with them, fetching, storing followers, delivering and
publishing, is commsite.federation.
"""
