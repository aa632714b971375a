"""commsite.federation: the stateful fediverse services.

Fetching from the network (`fetch`, the only way out), the followers store and
its sync, the delivery queue, publishing, the community's key pair on disk.
The protocol they speak (documents, signatures, WebFinger) is the pure
commsite.activitypub.
"""
